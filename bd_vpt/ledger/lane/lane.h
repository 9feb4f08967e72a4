/* The compiled lane's parts (module.c says what the lane does): the types they share, and
 * what each part gives the others. */
#ifndef BD_VPT_LANE_H
#define BD_VPT_LANE_H

#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* the parts call one another directly, not through the PLT: only PyInit__lane is exported */
#pragma GCC visibility push(hidden)

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
    uint64_t quoted[24][2], mask[24][2]; /* "name": as two words and their bytes (if <= 16) */
} Keys;

#define MAX_COUNT 1000000000000000LL /* the schema's bound on a count: 10^15 */

/* One usage line taken. */
typedef struct {
    Span id, ts, bead, actor, model, session, ref;
    int64_t id_key;
    int64_t tokens[6]; /* input, output, cache_read, cache_write, reasoning (and total) */
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

/* a blob's distinct keys (ids, or refs) in the order added, the text of each, and a table
 * that finds them */
typedef struct {
    uint32_t *slots; /* 0: empty; else 1 + the index of a key */
    size_t mask;
    uint64_t *keys;
    Span *texts;
    Py_ssize_t n, cap;
} KeySet;

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
    Slot *last; /* the slot of the line before (the next line's, often), or NULL */
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

/* The readers every line calls, inlined where they are called (text.c: the rest). Each gives
 * 0 (read) or -1 (not in bd-vpt's shape: the line is left to the Python lane). */
extern unsigned char PLAIN[256];      /* printable ASCII but the quote and the backslash */
extern signed char ULID_DIGIT[256];   /* Crockford's base 32: the base-36 value, or -1 */
#define UNKNOWN_KEY (-2)
int read_key_slow(Cur *c, Keys *keys, int prev);

static inline uint64_t load8(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* LANE_BYTEWISE: the readers byte by byte only (for the tests: the same answers) */
#if defined(__SSE2__) && !defined(LANE_BYTEWISE)
#define SSE2 1
#else
#define SSE2 0
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(LANE_BYTEWISE)
#define WORDS 1 /* eight bytes at a time, the first byte the lowest */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t zero_bytes(uint64_t w) {
    /* the high bit of each zero byte of w (the lowest one set is exact: past it, a borrow
     * may set others) */
    return (w - ONES) & ~w & HIGHS;
}
static inline uint64_t not_plain(uint64_t w) {
    /* the high bit of the bytes that are not PLAIN (the lowest one set exact): from 0x7f up,
     * below 0x20, the quote, the backslash */
    return (w & HIGHS) | ((w - 0x20 * ONES) & ~w & HIGHS) | zero_bytes(w ^ (0x7f * ONES)) |
           zero_bytes(w ^ ('"' * ONES)) | zero_bytes(w ^ ('\\' * ONES));
}
#else
#define WORDS 0
#endif

static inline int read_string(Cur *c, Span *out) {
    /* a JSON string of printable ASCII without escapes */
    if (c->p >= c->end || *c->p != '"') return -1;
    const char *start = ++c->p, *q = start, *end = c->end;
#if SSE2
    for (; end - q >= 16; q += 16) { /* sixteen bytes at a time */
        __m128i v = _mm_loadu_si128((const __m128i *)q);
        /* below 0x20 or from 0x80 up (signed: below 0x20), 0x7f, the quote, the backslash */
        __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
        __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
        __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
        __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
        int bad = _mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(low, del), _mm_or_si128(quote, backslash)));
        if (bad) {
            q += __builtin_ctz((unsigned)bad);
            goto found;
        }
    }
#endif
#if WORDS
    for (; end - q >= 8; q += 8) {
        uint64_t bad = not_plain(load8(q));
        if (bad) {
            q += __builtin_ctzll(bad) >> 3;
            goto found;
        }
    }
#endif
    while (q < end && PLAIN[(unsigned char)*q]) q++;
#if WORDS || SSE2
found:
#endif
    if (q >= end || *q != '"') return -1;
    out->p = start;
    out->n = q - start;
    c->p = q + 1;
    return 0;
}

static inline int read_null(Cur *c) {
    if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
        c->p += 4;
        return 0;
    }
    return -1;
}

static inline int read_string_or_null(Cur *c, Span *out) {
    if (c->p < c->end && *c->p == 'n') {
        out->p = NULL;
        out->n = -1;
        return read_null(c);
    }
    return read_string(c, out);
}

#if WORDS
static inline int short_count(Cur *c, int64_t *out) {
    /* read_count of a number of 1 to 7 digits with 8 bytes to read, without a loop: 1 (not
     * such a number: read_count's loop decides), else read_count's answer */
    uint64_t w = load8(c->p);
    uint64_t other = (((w - '0' * ONES) & ~w) | (w + (0x7f - '9') * ONES) | w) & HIGHS;
    if (other == 0) return 1; /* 8 digits or more */
    int n = __builtin_ctzll(other) >> 3; /* the digits before the first other byte (exact) */
    if (n == 0) return -1;
    char next = c->p[n];
    if ((n > 1 && c->p[0] == '0') || next == '.' || next == 'e' || next == 'E') return -1;
    /* the digits' values at the top of a word (below them: zeros), then summed in pairs */
    uint64_t v = (w - '0' * ONES) << (8 * (8 - n));
    v = ((v & 0x0f0f0f0f0f0f0f0full) * 2561) >> 8;
    v = ((v & 0x00ff00ff00ff00ffull) * 6553601) >> 16;
    v = ((v & 0x0000ffff0000ffffull) * 42949672960001ull) >> 32;
    *out = (int64_t)v;
    c->p += n;
    return 0;
}
#endif

static inline int read_count(Cur *c, int64_t *out) {
    /* a plain non-negative JSON integer of at most 16 digits: 0 or no leading zero */
#if WORDS
    if (c->end - c->p >= 8) {
        int got = short_count(c, out);
        if (got <= 0) return got;
    }
#endif
    const char *start = c->p;
    int64_t value = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (c->p - start >= 16) return -1;
        value = value * 10 + (*c->p - '0');
        c->p++;
    }
    Py_ssize_t digits = c->p - start;
    if (digits == 0 || (digits > 1 && *start == '0')) return -1;
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')) return -1;
    if (value > MAX_COUNT) return -1;
    *out = value;
    return 0;
}

static inline int after_member(Cur *c, char close) {
    /* after a member of an object or an array: 1 at its close, 0 at a comma (either read
     * past), -1 at anything else */
    if (c->p >= c->end) return -1;
    if (*c->p == close) {
        c->p++;
        return 1;
    }
    if (*c->p != ',') return -1;
    c->p++;
    return 0;
}

static inline int read_key(Cur *c, Keys *keys, int prev) {
    /* the index of the key read (then past its colon), -1, or UNKNOWN_KEY; prev: the key
     * before (count at the start of an object). The key that followed prev last time is
     * tried first: "name": compared in place, two words at a time. */
    int guess = keys->after[prev];
    if (guess < keys->count && keys->lens[guess] <= 13 && c->end - c->p >= 16) {
        uint64_t a = load8(c->p), b = load8(c->p + 8);
        if ((((a ^ keys->quoted[guess][0]) & keys->mask[guess][0]) |
             ((b ^ keys->quoted[guess][1]) & keys->mask[guess][1])) == 0) {
            c->p += keys->lens[guess] + 3;
            return guess;
        }
    }
    return read_key_slow(c, keys, prev);
}

static inline int ulid_key(Span s, int64_t *key) {
    /* whether s is a ULID; if so, *key = int(s[-12:], 36), as rows.id_keys reads it */
    if (s.n != 26) return 0;
    int bad = 0;
    int64_t value = 0;
    for (int i = 0; i < 14; i++) bad |= ULID_DIGIT[(unsigned char)s.p[i]];
    for (int i = 14; i < 26; i++) {
        int digit = ULID_DIGIT[(unsigned char)s.p[i]];
        bad |= digit;
        value = value * 36 + digit;
    }
    if (bad < 0) return 0;
    *key = value;
    return 1;
}

static inline uint32_t load4(const char *p) {
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

static inline uint64_t short_word(const char *p, Py_ssize_t n) {
    /* the n bytes (0 to 7) at p as a word, the first the lowest (memcpy into a zeroed word),
     * read without a byte past p + n */
    if (n >= 4)
        return load4(p) | ((uint64_t)load4(p + n - 4) << (8 * (n - 4)));
    if (n > 0)
        return (unsigned char)p[0] | ((uint64_t)(unsigned char)p[n / 2] << (8 * (n / 2))) |
               ((uint64_t)(unsigned char)p[n - 1] << (8 * (n - 1)));
    return 0;
}

static inline int same(Span a, Span b) {
    if (a.n != b.n) return 0;
    if (a.n < 8) return short_word(a.p, a.n) == short_word(b.p, b.n); /* (null: -1) */
    Py_ssize_t i = 0;
    for (; i + 8 < a.n; i += 8)
        if (load8(a.p + i) != load8(b.p + i)) return 0;
    return load8(a.p + a.n - 8) == load8(b.p + a.n - 8);
}

static inline uint64_t mix(uint64_t h, Span s) {
    /* eight bytes at a time: a hash for tables, never stored */
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    if (s.n < 0) return (h ^ 0xff) * k;
    Py_ssize_t i = 0;
    for (; i + 8 <= s.n; i += 8) {
        h = (h ^ load8(s.p + i)) * k;
        h ^= h >> 29;
    }
    uint64_t w = s.n >= 8 && s.n > i ? load8(s.p + s.n - 8) >> (8 * (8 - (s.n - i)))
                                     : short_word(s.p + i, s.n - i);
    h = (h ^ w ^ ((uint64_t)s.n << 56)) * k;
    return h ^ (h >> 29);
}

/* text.c: the JSON texts of a line in bd-vpt's own shape (0: read; -1: leave the line) */
void text_init(void);
int read_amount(Cur *c, double *out);
void keys_init(Keys *keys, const char *const *names, int count);
int skip_value(Cur *c, int depth);
int is_stamp(Span s);
int64_t stamp_micros(Span s);
int is_blank(const char *p, const char *end);
const char *trim_end(const char *p, const char *end);

/* usage.c: usage lines summed into rows */
void usage_keys(Keys *fields, Keys *kinds);
int cut_of(Cut *cut, const Span *ts);
int read_line(const char *p, const char *end, Line *line, Keys *fields, Keys *kinds);
int table_add(Table *t, const Line *line);
PyObject *row_dict(Table *t, Strings *strings);

/* keys.c: keys of ids and source_refs, repeats among a blob's lines, keys in two blobs */
void crc_init(void);
uint64_t ref_key(int kind, Span ref);
int kept_init(void);
void *kept_take(size_t size, int zeroed);
void kept_give(void *p, size_t size);
int keyset_init(KeySet *set, Py_ssize_t expected);
int keyset_add(KeySet *set, uint64_t key, Span text);
void keyset_free(KeySet *set);
int lefts_push(Lefts *lefts, Py_ssize_t index, const char *p, const char *stop);
PyObject *repeated(PyObject *module, PyObject *args);
PyObject *repeats(PyObject *module, PyObject *args);

/* outcome.c: outcome lines read into dicts, equal texts made one str */
int outcome_init(void);
void outcome_keys(Keys *fields, Keys *snapshot_keys);
PyObject *text_of(Strings *s, Span text);
void strings_free(Strings *s);
PyObject *read_outcome(const char *p, const char *end, Ended *ended, Strings *strings,
                       Keys *fields, Keys *snapshot_keys);

#pragma GCC visibility pop

#endif
