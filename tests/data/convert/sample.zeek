#fields	indicator	indicator_type	meta.source	meta.desc	meta.url
198.51.100.23	Intel::ADDR	ISAC	relay	-
update-check.example/a.php	Intel::URL	ISAC	-	-
AA:BB	Intel::PUBKEY_HASH	ISAC	-	-
