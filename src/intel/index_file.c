/*
 * index_file.c: compiled index files (index.h, docs/internals/INDEX.md).
 *
 * A compiled file holds what tw_index_add derived from each indicator: its
 * 32-byte row, its name, its normalised values and, when its hits need
 * verification, its pattern text. Loading replays those values into the
 * lookup structures, which costs a fraction of parsing and validating the
 * bundle's JSON. Every integer is little-endian, written and read byte by
 * byte, so a file moves between machines.
 *
 *   offset  size  field
 *   0       8     magic "\x89TWINDX\n" (the high byte and the newline catch
 *                 files mangled by text-mode transfers, as PNG's do)
 *   8       4     version (1)
 *   12      4     indicators
 *   16      4     values (atom records)
 *   20      4     patterns
 *   24      8     bytes of the name table
 *   32      8     bytes of the atom records
 *   40      8     bytes of the pattern records
 *   48      8     XXH3-64 (seed 0) of every byte after the header
 *   56      8     zero
 *   64            indicator rows, 32 bytes each: uuid[16], valid_from u32,
 *                 valid_until u32, name offset u32, tlp, flags, severity, 0
 *                 name table: NUL-terminated names, the first one empty
 *                 atom records: kind u8, flags u8 (1 = any subdomain), prefix
 *                 length u8, family u8, indicator u32, key length u32, key
 *                 (for addresses the 16 address bytes)
 *                 pattern records: indicator u32, length u32, text
 *
 * The loader checks the whole file before it adds anything: a file that is
 * short, foreign, corrupt or inconsistent is refused with the byte offset of
 * the fault, and the index is left as it was.
 */
#include <string.h>

#include "index_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"
#include "tidewatch/index.h"
#include "tidewatch/pattern.h"
#include "tidewatch/tlp.h"

#define HEADER_LEN   64
#define ROW_LEN      32
#define ATOM_HDR_LEN 12
#define PAT_HDR_LEN  8

#define ATOM_F_SUFFIX 0x01u
#define IND_FLAGS     (TW_IND_EXACT | TW_IND_REVOKED | TW_IND_UNINDEXED)

/* ==== Little-endian encoding ==== */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ==== Recording (while the index is built) ==== */

void tw_index_keep_source(struct tw_index *idx)
{
    idx->keep_source = true;
}

int tw__index_note_atom(struct tw_index *idx, enum tw_index_kind kind, const struct tw_ip *net,
        unsigned plen, bool suffix, struct tw_str key, uint32_t n)
{
    unsigned char hdr[ATOM_HDR_LEN];
    int rc;

    hdr[0] = (unsigned char)kind;
    hdr[1] = suffix ? ATOM_F_SUFFIX : 0;
    hdr[2] = kind == TW_INDEX_ADDR ? (unsigned char)plen : 0;
    hdr[3] = kind == TW_INDEX_ADDR ? net->family : 0;
    put32(hdr + 4, n);
    if (kind == TW_INDEX_ADDR)
        key = tw_str_make((const char *)net->bytes, sizeof(net->bytes));
    put32(hdr + 8, (uint32_t)key.len);
    rc = tw_buf_append(&idx->src_atoms, hdr, sizeof(hdr));
    return rc == TW_OK ? tw_buf_append(&idx->src_atoms, key.ptr, key.len) : rc;
}

int tw__index_note_pattern(struct tw_index *idx, uint32_t n, struct tw_str text)
{
    unsigned char hdr[PAT_HDR_LEN];
    int rc;

    if (!idx->keep_source)
        return TW_OK;
    put32(hdr, n);
    put32(hdr + 4, (uint32_t)text.len);
    rc = tw_buf_append(&idx->src_patterns, hdr, sizeof(hdr));
    return rc == TW_OK ? tw_buf_append(&idx->src_patterns, text.ptr, text.len) : rc;
}

/* ==== Saving ==== */

int tw_index_save(const struct tw_index *idx, struct tw_buf *out)
{
    unsigned char hdr[HEADER_LEN];
    size_t start = out->len, body;
    int rc;

    if (!idx->keep_source || idx->broken || idx->n_inds > UINT32_MAX)
        return TW_EINVAL;
    memset(hdr, 0, sizeof(hdr));
    for (size_t i = 0; i < TW_INDEX_FILE_MAGIC_LEN; i++)
        hdr[i] = (unsigned char)TW_INDEX_FILE_MAGIC[i];
    put32(hdr + 8, TW_INDEX_FILE_VERSION);
    put32(hdr + 12, (uint32_t)idx->n_inds);
    put32(hdr + 16, (uint32_t)idx->n_atoms);
    put32(hdr + 20, (uint32_t)idx->n_patterns);
    put64(hdr + 24, idx->names.len);
    put64(hdr + 32, idx->src_atoms.len);
    put64(hdr + 40, idx->src_patterns.len);
    if ((rc = tw_buf_append(out, hdr, sizeof(hdr))) != TW_OK)
        return rc;
    body = out->len;
    for (size_t i = 0; i < idx->n_inds; i++) {
        const struct tw_indicator *ind = &idx->inds[i];
        unsigned char row[ROW_LEN];

        memcpy(row, ind->uuid, 16);
        put32(row + 16, ind->valid_from);
        put32(row + 20, ind->valid_until);
        put32(row + 24, ind->name_off);
        row[28] = ind->tlp;
        row[29] = ind->flags;
        row[30] = ind->severity;
        row[31] = 0;
        if ((rc = tw_buf_append(out, row, sizeof(row))) != TW_OK)
            return rc;
    }
    if ((rc = tw_buf_append(out, idx->names.ptr, idx->names.len)) != TW_OK ||
            (rc = tw_buf_append(out, idx->src_atoms.ptr, idx->src_atoms.len)) != TW_OK ||
            (rc = tw_buf_append(out, idx->src_patterns.ptr, idx->src_patterns.len)) != TW_OK)
        return rc;
    put64((unsigned char *)out->ptr + start + 48, tw_hash64(out->ptr + body, out->len - body, 0));
    return TW_OK;
}

/* ==== Loading ==== */

bool tw_index_is_file(const void *data, size_t len)
{
    return len >= TW_INDEX_FILE_MAGIC_LEN &&
           memcmp(data, TW_INDEX_FILE_MAGIC, TW_INDEX_FILE_MAGIC_LEN) == 0;
}

/* The sections of a file whose header has been checked. */
struct layout {
    const unsigned char *rows, *names, *atoms, *pats;
    size_t n_inds, n_atoms, n_pats;
    size_t names_len, atoms_len, pats_len;
    size_t rows_off, names_off, atoms_off, pats_off; /* file offsets, for errors */
};

static int check_header(const unsigned char *p, size_t len, struct layout *l, struct tw_err *err)
{
    uint64_t names_len, atoms_len, pats_len, rows_len, rest;

    if (!tw_index_is_file(p, len))
        return tw_err_set(err, TW_EINVAL, 0, "not a compiled index file");
    if (len < HEADER_LEN)
        return tw_err_set(err, TW_EINVAL, len, "compiled index ends inside its header");
    if (get32(p + 8) != TW_INDEX_FILE_VERSION)
        return tw_err_set(err, TW_EINVAL, 8, "compiled index version %u (this tidewatch reads %u)",
                (unsigned)get32(p + 8), (unsigned)TW_INDEX_FILE_VERSION);
    if (get64(p + 56) != 0)
        return tw_err_set(err, TW_EINVAL, 56, "reserved header field is not zero");
    l->n_inds = get32(p + 12);
    l->n_atoms = get32(p + 16);
    l->n_pats = get32(p + 20);
    names_len = get64(p + 24);
    atoms_len = get64(p + 32);
    pats_len = get64(p + 40);
    rest = len - HEADER_LEN;
    rows_len = (uint64_t)l->n_inds * ROW_LEN;
    if (rows_len > rest || names_len > rest - rows_len || atoms_len > rest - rows_len - names_len ||
            pats_len != rest - rows_len - names_len - atoms_len)
        return tw_err_set(err, TW_EINVAL, 12,
                "section sizes in the header do not add up to the file's %zu bytes", len);
    if (tw_hash64(p + HEADER_LEN, len - HEADER_LEN, 0) != get64(p + 48))
        return tw_err_set(err, TW_EINVAL, 48, "checksum mismatch: the file is corrupt");
    l->names_len = (size_t)names_len;
    l->atoms_len = (size_t)atoms_len;
    l->pats_len = (size_t)pats_len;
    l->rows_off = HEADER_LEN;
    l->names_off = l->rows_off + (size_t)rows_len;
    l->atoms_off = l->names_off + l->names_len;
    l->pats_off = l->atoms_off + l->atoms_len;
    l->rows = p + l->rows_off;
    l->names = p + l->names_off;
    l->atoms = p + l->atoms_off;
    l->pats = p + l->pats_off;
    return TW_OK;
}

static int check_rows(const struct layout *l, struct tw_err *err)
{
    if (l->names_len == 0 || l->names[0] != '\0' || l->names[l->names_len - 1] != '\0')
        return tw_err_set(err, TW_EINVAL, l->names_off, "malformed name table");
    for (size_t i = 0; i < l->n_inds; i++) {
        const unsigned char *r = l->rows + i * ROW_LEN;
        size_t off = l->rows_off + i * ROW_LEN;
        uint32_t name = get32(r + 24);

        if (name != 0 && (name >= l->names_len || l->names[name - 1] != '\0'))
            return tw_err_set(err, TW_EINVAL, off + 24, "indicator %zu: bad name offset", i);
        if (r[28] > TW_TLP_RED)
            return tw_err_set(
                    err, TW_EINVAL, off + 28, "indicator %zu: bad TLP code %u", i, (unsigned)r[28]);
        if ((r[29] & ~IND_FLAGS) != 0 ||
                (r[29] & (TW_IND_EXACT | TW_IND_UNINDEXED)) == (TW_IND_EXACT | TW_IND_UNINDEXED))
            return tw_err_set(err, TW_EINVAL, off + 29, "indicator %zu: bad flags 0x%02x", i,
                    (unsigned)r[29]);
        if (r[30] < 1 || r[30] > 3 || r[31] != 0)
            return tw_err_set(err, TW_EINVAL, off + 30, "indicator %zu: bad severity", i);
    }
    return TW_OK;
}

/* One atom record, decoded. */
struct atom_rec {
    enum tw_index_kind kind;
    bool suffix;
    unsigned plen;
    struct tw_ip net;
    uint32_t ind;
    struct tw_str key;
    size_t size; /* bytes of the record */
};

static int decode_atom(const struct layout *l, size_t pos, struct atom_rec *a, struct tw_err *err)
{
    const unsigned char *r = l->atoms + pos;
    size_t off = l->atoms_off + pos;
    uint32_t klen;

    memset(a, 0, sizeof(*a));
    if (l->atoms_len - pos < ATOM_HDR_LEN)
        return tw_err_set(err, TW_EINVAL, off, "value record cut short");
    klen = get32(r + 8);
    if (klen > l->atoms_len - pos - ATOM_HDR_LEN)
        return tw_err_set(err, TW_EINVAL, off + 8, "value record longer than its section");
    a->size = ATOM_HDR_LEN + klen;
    a->ind = get32(r + 4);
    a->key = tw_str_make((const char *)r + ATOM_HDR_LEN, klen);
    if (r[0] >= TW_INDEX_KIND_COUNT)
        return tw_err_set(err, TW_EINVAL, off, "unknown value kind %u", (unsigned)r[0]);
    a->kind = (enum tw_index_kind)r[0];
    if (a->ind >= l->n_inds)
        return tw_err_set(err, TW_EINVAL, off + 4, "value names indicator %u of %zu",
                (unsigned)a->ind, l->n_inds);
    if ((l->rows[(size_t)a->ind * ROW_LEN + 29] & TW_IND_UNINDEXED) != 0)
        return tw_err_set(err, TW_EINVAL, off + 4, "value of an unindexed indicator");
    if (r[1] != 0 && (r[1] != ATOM_F_SUFFIX || a->kind != TW_INDEX_DOMAIN))
        return tw_err_set(err, TW_EINVAL, off + 1, "bad value flags 0x%02x", (unsigned)r[1]);
    a->suffix = r[1] == ATOM_F_SUFFIX;
    if (a->kind == TW_INDEX_ADDR) {
        unsigned fam = r[3], max = fam == 4 ? 32 : 128;

        if ((fam != 4 && fam != 6) || r[2] > max || klen != 16)
            return tw_err_set(err, TW_EINVAL, off + 2, "bad address record");
        a->net.family = (uint8_t)fam;
        memcpy(a->net.bytes, a->key.ptr, 16);
        if (fam == 4 && memcmp(a->net.bytes + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) != 0)
            return tw_err_set(err, TW_EINVAL, off + ATOM_HDR_LEN, "bad IPv4 address bytes");
        a->plen = r[2];
        return TW_OK;
    }
    if (r[2] != 0 || r[3] != 0)
        return tw_err_set(err, TW_EINVAL, off + 2, "bad value record");
    if (klen == 0 || klen > TW__INDEX_MAX_KEY)
        return tw_err_set(err, TW_EINVAL, off + 8, "bad value length %u", (unsigned)klen);
    if (a->kind == TW_INDEX_DOMAIN) {
        char name[256];
        size_t nlen;

        /* The domain set relies on normal form: the value must be its own. */
        if (tw_domain_normalize(a->key, name, sizeof(name), &nlen, NULL) != TW_OK ||
                !tw_str_eq(a->key, tw_str_make(name, nlen)))
            return tw_err_set(err, TW_EINVAL, off + ATOM_HDR_LEN, "domain not in normal form");
    }
    return TW_OK;
}

/* The compiled patterns of a file, by indicator (NULL for exact ones). */
static int check_patterns(const struct layout *l, struct tw_pattern **pats, struct tw_err *err)
{
    size_t pos = 0, n = 0;
    long prev = -1;

    while (pos < l->pats_len) {
        const unsigned char *r = l->pats + pos;
        size_t off = l->pats_off + pos;
        uint32_t ind, plen;
        struct tw_err perr;

        if (l->pats_len - pos < PAT_HDR_LEN)
            return tw_err_set(err, TW_EINVAL, off, "pattern record cut short");
        ind = get32(r);
        plen = get32(r + 4);
        if (plen > l->pats_len - pos - PAT_HDR_LEN)
            return tw_err_set(err, TW_EINVAL, off + 4, "pattern record longer than its section");
        if (ind >= l->n_inds || (long)ind <= prev ||
                (l->rows[(size_t)ind * ROW_LEN + 29] & TW_IND_EXACT) != 0)
            return tw_err_set(err, TW_EINVAL, off, "pattern record for indicator %u out of place",
                    (unsigned)ind);
        if (tw_pattern_parse(tw_str_make((const char *)r + PAT_HDR_LEN, plen), &pats[ind], &perr) !=
                TW_OK)
            return tw_err_set(err, perr.code == TW_ENOMEM ? TW_ENOMEM : TW_EINVAL,
                    off + PAT_HDR_LEN, "pattern of indicator %u: %s", (unsigned)ind, perr.msg);
        prev = ind;
        pos += PAT_HDR_LEN + plen;
        n++;
    }
    if (n != l->n_pats)
        return tw_err_set(
                err, TW_EINVAL, 20, "header says %zu patterns, the file has %zu", l->n_pats, n);
    for (size_t i = 0; i < l->n_inds; i++)
        if ((l->rows[i * ROW_LEN + 29] & TW_IND_EXACT) == 0 && pats[i] == NULL)
            return tw_err_set(err, TW_EINVAL, l->rows_off + i * ROW_LEN + 29,
                    "indicator %zu needs verification but has no pattern", i);
    return TW_OK;
}

static int check_atoms(const struct layout *l, struct tw_err *err)
{
    size_t pos = 0, n = 0;

    while (pos < l->atoms_len) {
        struct atom_rec a;
        int rc = decode_atom(l, pos, &a, err);

        if (rc != TW_OK)
            return rc;
        pos += a.size;
        n++;
    }
    if (n != l->n_atoms)
        return tw_err_set(
                err, TW_EINVAL, 16, "header says %zu values, the file has %zu", l->n_atoms, n);
    return TW_OK;
}

/* Adds the checked file to idx; only running out of memory can fail. */
static int commit(struct tw_index *idx, const struct layout *l, struct tw_pattern **pats)
{
    size_t base = idx->n_inds, names_base = idx->names.len, pos = 0;
    size_t n_verify = 0, n_unindexed = 0;
    int rc;

    for (size_t i = 0; i < l->n_inds; i++) {
        n_verify += pats[i] != NULL;
        n_unindexed += (l->rows[i * ROW_LEN + 29] & TW_IND_UNINDEXED) != 0;
    }
    if ((rc = tw__index_grow((void **)&idx->inds, &idx->cap_inds, base + l->n_inds,
                 sizeof(*idx->inds), idx->max_indicators)) != TW_OK ||
            (rc = tw__index_grow((void **)&idx->patterns, &idx->cap_patterns,
                     idx->n_patterns + n_verify, sizeof(*idx->patterns), idx->max_indicators)) !=
                    TW_OK ||
            (rc = tw__index_grow((void **)&idx->unindexed, &idx->cap_unindexed,
                     idx->n_unindexed + n_unindexed, sizeof(*idx->unindexed),
                     idx->max_indicators)) != TW_OK ||
            (rc = tw_buf_append(&idx->names, l->names + 1, l->names_len - 1)) != TW_OK)
        return rc;
    while (pos < l->atoms_len) {
        struct atom_rec a;

        (void)decode_atom(l, pos, &a, NULL); /* checked before */
        rc = tw__index_commit_atom(
                idx, a.kind, &a.net, a.plen, a.suffix, a.key, (uint32_t)(base + a.ind));
        if (rc != TW_OK)
            return rc;
        pos += a.size;
    }
    for (size_t i = 0; i < l->n_inds; i++) {
        const unsigned char *r = l->rows + i * ROW_LEN;
        struct tw_indicator *ind = &idx->inds[base + i];
        uint32_t name = get32(r + 24);

        memcpy(ind->uuid, r, 16);
        ind->valid_from = get32(r + 16);
        ind->valid_until = get32(r + 20);
        ind->name_off = name == 0 ? 0 : (uint32_t)(names_base + name - 1);
        ind->tlp = r[28];
        ind->flags = r[29];
        ind->severity = r[30];
        if (pats[i] != NULL) {
            idx->patterns[idx->n_patterns].ind = (uint32_t)(base + i);
            idx->patterns[idx->n_patterns++].pattern = pats[i];
            pats[i] = NULL; /* the index owns it now */
        }
        if (ind->flags & TW_IND_UNINDEXED)
            idx->unindexed[idx->n_unindexed++] = (uint32_t)(base + i);
    }
    for (pos = 0; idx->keep_source && pos < l->pats_len;) {
        uint32_t plen = get32(l->pats + pos + 4);

        rc = tw__index_note_pattern(idx, (uint32_t)(base + get32(l->pats + pos)),
                tw_str_make((const char *)l->pats + pos + PAT_HDR_LEN, plen));
        if (rc != TW_OK)
            return rc;
        pos += PAT_HDR_LEN + plen;
    }
    idx->n_inds = base + l->n_inds;
    return TW_OK;
}

int tw_index_load(struct tw_index *idx, const void *data, size_t len, struct tw_err *err)
{
    const unsigned char *p = data;
    struct tw_pattern **pats = NULL;
    struct layout l = { 0 };
    int rc;

    if (idx->built || idx->broken)
        return tw_err_set(err, TW_EINVAL, TW_NOPOS,
                idx->broken ? "index unusable after an earlier failure" : "index already built");
    if ((rc = check_header(p, len, &l, err)) != TW_OK || (rc = check_rows(&l, err)) != TW_OK ||
            (rc = check_atoms(&l, err)) != TW_OK)
        return rc;
    if (l.n_inds > idx->max_indicators - TW_MIN(idx->n_inds, idx->max_indicators))
        return tw_err_set(err, TW_ELIMIT, 12, "index full (%zu indicators)", idx->max_indicators);
    if (l.n_atoms > TW_INDEX_MAX_ATOMS - TW_MIN(idx->n_atoms, TW_INDEX_MAX_ATOMS))
        return tw_err_set(err, TW_ELIMIT, 16, "index full (%zu values)", TW_INDEX_MAX_ATOMS);
    pats = tw_calloc(l.n_inds ? l.n_inds : 1, sizeof(struct tw_pattern *));
    if (pats == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    rc = check_patterns(&l, pats, err);
    if (rc == TW_OK) {
        rc = commit(idx, &l, pats);
        if (rc != TW_OK) {
            idx->broken = true;
            (void)tw_err_set(err, rc, TW_NOPOS, "cannot load index: %s", tw_strerror(rc));
        }
    }
    for (size_t i = 0; i < l.n_inds; i++)
        tw_pattern_free(pats[i]);
    tw_free(pats);
    return rc;
}
