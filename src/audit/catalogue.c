/*
 * catalogue.c: the shipped rule catalogue, compiled in.
 *
 * The build concatenates the files of rules/ in name order, each after a
 * line "# file: NAME" (a comment to the parser, which also uses it to name
 * the file and line of an error), into the symbols below (cmake/EmbedDir.cmake).
 * Parsing them is parsing one rule file called "<catalogue>": all or nothing,
 * and an id defined twice in the catalogue is an error.
 */
#include "rules_int.h"

extern const unsigned char tw_audit_catalogue[];
extern const unsigned long tw_audit_catalogue_len;

int tw_ruleset_add_builtin_catalogue(struct tw_ruleset *rs, struct tw_err *err)
{
    return tw_ruleset_parse(
            rs, (const char *)tw_audit_catalogue, tw_audit_catalogue_len, "<catalogue>", err);
}
