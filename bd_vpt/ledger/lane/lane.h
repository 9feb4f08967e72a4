/* The compiled lane's parts (module.c says what the lane does): the types they share, and
 * what each part gives the others. */
#ifndef BD_VPT_LANE_H
#define BD_VPT_LANE_H

#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const char *p;
    Py_ssize_t n; /* -1: JSON null */
} Span;

typedef struct {
    const char *p, *end;
} Cur;

typedef struct {
    const char *const *names;
    int count;
    size_t lens[24];
    int after[25]; /* the key that followed each key last time (a guess at the next) */
} Keys;

#define MAX_COUNT 1000000000000000LL /* the schema's bound on a count: 10^15 */

/* One usage line taken. */
typedef struct {
    Span id, ts, bead, actor, model, session, ref;
    int64_t id_key;
    int64_t tokens[5]; /* input, output, cache_read, cache_write, reasoning */
    int priced;
    int cut; /* 0: its day places it; 1, 2: inside, outside a window that cuts its day */
    int64_t pico;
} Line;

/* A window that cuts days: its usage on those days is placed record by record. */
typedef struct {
    char days[64][10];
    int count;
    int has_since, has_until;
    int64_t since, until; /* microseconds since the epoch: since <= t < until */
} Cut;

typedef struct {
    uint64_t key;
    Span text;
    int used;
} Entry;

typedef struct {
    Entry *entries;
    size_t mask, used;
} KeySet;

/* a growing array of 64-bit keys */
typedef struct {
    uint64_t *items;
    Py_ssize_t n, cap;
} Keys64;

typedef struct {
    Span bead, actor, model, day, session;
    int priced, cut;
    int64_t sums[6]; /* records, input, output, cache_read, cache_write, reasoning */
    int64_t pico;
    Span first; /* the smallest ts */
    uint64_t hash;
    int used;
} Slot;

typedef struct {
    Slot *slots;
    size_t mask, used;
} Table;

typedef struct {
    PyObject **items;
    Span *texts;
    uint64_t *hashes;
    size_t mask, used;
} Strings;

typedef struct {
    Span id, ref;
    int64_t id_key;
} Ended;

/* the lines phase 1 left for phase 2, in order */
typedef struct {
    Py_ssize_t index;
    const char *p, *stop;
} Left;

typedef struct {
    Left *items;
    Py_ssize_t n, cap;
} Lefts;

/* text.c: the JSON texts of a line in bd-vpt's own shape (0: read; -1: leave the line) */
void text_init(void);
int read_string(Cur *c, Span *out);
int read_null(Cur *c);
int read_string_or_null(Cur *c, Span *out);
int read_count(Cur *c, int64_t *out);
int read_amount(Cur *c, double *out);
void keys_init(Keys *keys, const char *const *names, int count);
#define UNKNOWN_KEY (-2)
int read_key(Cur *c, Keys *keys, int prev);
int skip_value(Cur *c, int depth);
int after_member(Cur *c, char close);
int ulid_key(Span s, int64_t *key);
int is_stamp(Span s);
int64_t stamp_micros(Span s);
int same(Span a, Span b);
int is_blank(const char *p, const char *end);
const char *trim_end(const char *p, const char *end);

/* usage.c: usage lines summed into rows */
void usage_keys(Keys *fields, Keys *kinds);
int cut_of(Cut *cut, const Span *ts);
int read_line(const char *p, const char *end, Line *line, Keys *fields, Keys *kinds);
int table_add(Table *t, const Line *line);
PyObject *row_dict(Table *t, Strings *strings);
uint64_t mix(uint64_t h, Span s);

/* keys.c: keys of ids and source_refs, repeats among a blob's lines, keys in two blobs */
void crc_init(void);
uint64_t ref_key(int kind, Span ref);
int keyset_init(KeySet *set);
int keyset_add(KeySet *set, uint64_t key, Span text);
int keys64_push(Keys64 *k, uint64_t value);
int lefts_push(Lefts *lefts, Py_ssize_t index, const char *p, const char *stop);
PyObject *repeated(PyObject *module, PyObject *args);

/* outcome.c: outcome lines read into dicts, equal texts made one str */
int outcome_init(void);
void outcome_keys(Keys *fields, Keys *snapshot_keys);
PyObject *text_of(Strings *s, Span text);
void strings_free(Strings *s);
PyObject *read_outcome(const char *p, const char *end, Ended *ended, Strings *strings,
                       Keys *fields, Keys *snapshot_keys);

#endif
