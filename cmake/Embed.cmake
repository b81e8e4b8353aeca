# cmake -DIN=file -DOUT=file.c -DSYM=name -P Embed.cmake
# Writes `const unsigned char SYM[]` and `const unsigned long SYM_len`.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* Generated from ${IN}; do not edit. */\n"
    "extern const unsigned char ${SYM}[];\nextern const unsigned long ${SYM}_len;\n"
    "const unsigned char ${SYM}[] = {\n${body}0x00};\n"
    "const unsigned long ${SYM}_len = ${len}UL;\n")
