/* bd_vpt.ledger._lane: the compiled fast lane of a blob's fold (see fast.py).
 *
 * fold(data) reads a ledger blob's lines and takes those it can prove are records in the
 * shape bd-vpt writes (compact JSON, known keys once each, ASCII strings without escapes,
 * plain numbers, a ULID id, a UTC millisecond ts on a real day, every schema bound held):
 * - usage lines are summed into rows keyed and valued exactly as rows.py's Python lane does;
 * - outcome lines are read into dicts equal to what orjson reads (key order and number types
 *   included), the equal texts of a blob made one str.
 * Every other non-blank line (retractions, escapes, offsets, unknown keys, anything unusual)
 * is handed back untouched for the Python lane, which stays the judge: this lane only ever
 * takes a subset of what the Python lane accepts, and gives the same values for it.
 *
 * Returns (rows, id_keys, ref_keys, rest, lines_read), or None when the blob must go the
 * Python way whole (an id or source_ref repeated among the lines taken, a sum past 2^63).
 * fold(data, cut): the usage on the days a window cuts is placed in or out of it record by
 * record (the rows' cut field, as rows.cut_fold places it).
 */
#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const char *p;
    Py_ssize_t n; /* -1: JSON null */
} Span;

enum {
    F_KIND, F_V, F_ID, F_TS, F_BEAD, F_ACTOR, F_SOURCE, F_MODEL, F_TOKENS, F_COST,
    F_SOURCE_REF, F_REPORTED, F_PROVIDER, F_SESSION, F_PRICE_REF, F_GT_SESSION, F_MESSAGES,
    F_REQUESTS, F_COUNT
};
static const char *const FIELD_NAMES[F_COUNT] = {
    "kind", "v", "id", "ts", "bead", "actor", "source", "model", "tokens", "cost_usd",
    "source_ref", "reported_cost_usd", "provider", "session", "price_ref", "gt_session",
    "messages", "requests",
};
static const uint32_t REQUIRED = (1u << F_KIND) | (1u << F_V) | (1u << F_ID) | (1u << F_TS) |
                                 (1u << F_BEAD) | (1u << F_ACTOR) | (1u << F_SOURCE) |
                                 (1u << F_MODEL) | (1u << F_TOKENS) | (1u << F_COST);

enum { T_INPUT, T_OUTPUT, T_CACHE_READ, T_CACHE_WRITE, T_REASONING, T_TOTAL, T_COUNT };
static const char *const TOKEN_NAMES[T_COUNT] = {
    "input", "output", "cache_read", "cache_write", "reasoning", "total",
};

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

/* ---- the line reader: 0 = take, -1 = leave it to the Python lane ---- */

typedef struct {
    const char *p, *end;
} Cur;

static unsigned char PLAIN[256]; /* printable ASCII but the quote and the backslash */

static void plain_init(void) {
    for (int ch = 0x20; ch < 0x7f; ch++) PLAIN[ch] = ch != '"' && ch != '\\';
}

static int read_string(Cur *c, Span *out) {
    /* a JSON string of printable ASCII without escapes */
    if (c->p >= c->end || *c->p != '"') return -1;
    const char *start = ++c->p, *q = start, *end = c->end;
    while (q < end && PLAIN[(unsigned char)*q]) q++;
    if (q >= end || *q != '"') return -1;
    out->p = start;
    out->n = q - start;
    c->p = q + 1;
    return 0;
}

static int read_null(Cur *c) {
    if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
        c->p += 4;
        return 0;
    }
    return -1;
}

static int read_string_or_null(Cur *c, Span *out) {
    if (c->p < c->end && *c->p == 'n') {
        out->p = NULL;
        out->n = -1;
        return read_null(c);
    }
    return read_string(c, out);
}

static int read_count(Cur *c, int64_t *out) {
    /* a plain non-negative JSON integer of at most 16 digits: 0 or no leading zero */
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

static const double POWERS[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int read_amount(Cur *c, double *out) {
    /* A non-negative JSON number (integer, fraction, exponent), read as Python's float()
     * reads it, correctly rounded, when at most 15 significant digits times a power of ten
     * up to 10^22 make it: both are exact doubles, and one IEEE multiplication or division
     * of exact doubles is correctly rounded (Clinger's fast path). Any other number (more
     * digits, a larger exponent) leaves the line to the Python lane. */
    const char *q = c->p, *end = c->end;
    int64_t mantissa = 0;
    int significant = 0, exponent = 0;
    if (q < end && *q == '0') {
        q++;
    } else if (q < end && *q >= '1' && *q <= '9') {
        while (q < end && *q >= '0' && *q <= '9') {
            if (significant || *q != '0') significant++;
            if (significant > 15) return -1;
            mantissa = mantissa * 10 + (*q - '0');
            q++;
        }
    } else {
        return -1;
    }
    if (q < end && *q == '.') {
        q++;
        const char *digits = q;
        while (q < end && *q >= '0' && *q <= '9') {
            if (significant || *q != '0') significant++;
            if (significant > 15) return -1;
            mantissa = mantissa * 10 + (*q - '0');
            exponent--;
            q++;
        }
        if (q == digits) return -1;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        int negative = 0, power = 0;
        if (q < end && (*q == '+' || *q == '-')) negative = *q++ == '-';
        const char *digits = q;
        while (q < end && *q >= '0' && *q <= '9') {
            if (power > 10000) return -1;
            power = power * 10 + (*q - '0');
            q++;
        }
        if (q == digits) return -1;
        exponent += negative ? -power : power;
    }
    double value = (double)mantissa;
    if (mantissa != 0) {
        if (exponent > 22 || exponent < -22) return -1;
        value = exponent >= 0 ? value * POWERS[exponent] : value / POWERS[-exponent];
    }
    if (!(value >= 0.0 && value <= 1e15)) return -1;
    c->p = q;
    *out = value;
    return 0;
}

typedef struct {
    const char *const *names;
    int count;
    size_t lens[24];
    int after[25]; /* the key that followed each key last time (a guess at the next) */
} Keys;

static void keys_init(Keys *keys, const char *const *names, int count) {
    keys->names = names;
    keys->count = count;
    for (int i = 0; i < count; i++) keys->lens[i] = strlen(names[i]);
    for (int i = 0; i <= count; i++) keys->after[i] = i < count ? i + 1 : 0;
}

/* the index of the key read (then past its colon), or -1; prev: the key before (count at
 * the start of an object) */
static inline int equal(const char *a, const char *b, size_t n) {
    /* short texts: no call */
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static int read_key(Cur *c, Keys *keys, int prev) {
    Span key;
    int guess = keys->after[prev];
    if (guess < keys->count) { /* "name": read in place */
        size_t n = keys->lens[guess];
        const char *p = c->p;
        if ((size_t)(c->end - p) >= n + 3 && p[0] == '"' && p[n + 1] == '"' && p[n + 2] == ':' &&
            equal(p + 1, keys->names[guess], n)) {
            c->p = p + n + 3;
            return guess;
        }
    }
    if (read_string(c, &key) < 0 || c->p >= c->end || *c->p != ':') return -1;
    c->p++;
    for (int i = 0; i < keys->count; i++) {
        if (keys->lens[i] == (size_t)key.n && equal(key.p, keys->names[i], (size_t)key.n)) {
            keys->after[prev] = i;
            return i;
        }
    }
    return -1;
}

static signed char ULID_DIGIT[256]; /* Crockford's base 32 (no I, L, O, U): base-36 value */

static void ulid_init(void) {
    memset(ULID_DIGIT, -1, sizeof(ULID_DIGIT));
    for (int ch = '0'; ch <= '9'; ch++) ULID_DIGIT[ch] = (signed char)(ch - '0');
    for (int ch = 'A'; ch <= 'Z'; ch++)
        if (ch != 'I' && ch != 'L' && ch != 'O' && ch != 'U')
            ULID_DIGIT[ch] = (signed char)(ch - 'A' + 10);
}

/* whether s is a ULID; if so, *key = int(s[-12:], 36), as rows.id_keys reads it */
static int ulid_key(Span s, int64_t *key) {
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

static int digits(const char *p, int n, int *out) {
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        value = value * 10 + (p[i] - '0');
    }
    *out = value;
    return 0;
}

static int is_stamp(Span s) {
    /* YYYY-MM-DDTHH:MM:SS.mmmZ on a day that exists (years 1-9999, as Python's date) */
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s.p;
    int year, month, day, hour, minute, second, milli;
    if (s.n != 24 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
        p[16] != ':' || p[19] != '.' || p[23] != 'Z')
        return 0;
    if (digits(p, 4, &year) || digits(p + 5, 2, &month) || digits(p + 8, 2, &day) ||
        digits(p + 11, 2, &hour) || digits(p + 14, 2, &minute) || digits(p + 17, 2, &second) ||
        digits(p + 20, 3, &milli))
        return 0;
    if (year < 1 || month < 1 || month > 12 || day < 1) return 0;
    if (hour > 23 || minute > 59 || second > 59) return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int last = month_days[month - 1] + (month == 2 && leap);
    return day <= last;
}

static int64_t stamp_micros(Span s) {
    /* a checked stamp (is_stamp) as microseconds since 1970-01-01T00:00:00Z */
    int y, m, d, hh, mm, ss, ms;
    digits(s.p, 4, &y);
    digits(s.p + 5, 2, &m);
    digits(s.p + 8, 2, &d);
    digits(s.p + 11, 2, &hh);
    digits(s.p + 14, 2, &mm);
    digits(s.p + 17, 2, &ss);
    digits(s.p + 20, 3, &ms);
    int64_t year = y - (m <= 2);
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return ((days * 86400 + hh * 3600 + mm * 60 + ss) * 1000 + ms) * 1000;
}

/* A window that cuts days: its usage on those days is placed record by record. */
typedef struct {
    char days[64][10];
    int count;
    int has_since, has_until;
    int64_t since, until; /* microseconds since the epoch: since <= t < until */
} Cut;

static int cut_of(Cut *cut, const Span *ts) {
    for (int i = 0; i < cut->count; i++) {
        if (memcmp(cut->days[i], ts->p, 10) == 0) {
            int64_t t = stamp_micros(*ts);
            int inside = (!cut->has_since || t >= cut->since) && (!cut->has_until || t < cut->until);
            return inside ? 1 : 2;
        }
    }
    return 0;
}

static int read_tokens(Cur *c, Line *line, Keys *keys) {
    int64_t values[T_COUNT] = {0};
    unsigned seen = 0;
    int k = T_COUNT;
    if (c->p >= c->end || *c->p != '{') return -1;
    c->p++;
    if (c->p < c->end && *c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            k = read_key(c, keys, k);
            if (k < 0 || (seen & (1u << k))) return -1;
            seen |= 1u << k;
            if (read_count(c, &values[k]) < 0) return -1;
            if (c->p >= c->end) return -1;
            if (*c->p == '}') {
                c->p++;
                break;
            }
            if (*c->p != ',') return -1;
            c->p++;
        }
    }
    /* neither input nor output: its count depends on its kinds (records.token_total) */
    if (!(seen & ((1u << T_INPUT) | (1u << T_OUTPUT)))) return -1;
    for (int i = 0; i < 5; i++) line->tokens[i] = values[i];
    return 0;
}

static int read_line(const char *p, const char *end, Line *line, Keys *fields, Keys *kinds) {
    Cur cur = {p, end};
    Cur *c = &cur;
    uint32_t seen = 0;
    int f = F_COUNT;
    Span text;
    double amount;
    int64_t number;
    if (c->p >= c->end || *c->p != '{') return -1;
    c->p++;
    for (;;) {
        f = read_key(c, fields, f);
        if (f < 0 || (seen & (1u << f))) return -1;
        seen |= 1u << f;
        switch (f) {
        case F_KIND:
            if (read_string(c, &text) < 0 || text.n != 5 || memcmp(text.p, "usage", 5) != 0)
                return -1;
            break;
        case F_V:
            if (read_count(c, &number) < 0 || number != 1) return -1;
            break;
        case F_ID:
            if (read_string(c, &line->id) < 0 || !ulid_key(line->id, &line->id_key)) return -1;
            break;
        case F_TS:
            if (read_string(c, &line->ts) < 0 || !is_stamp(line->ts)) return -1;
            break;
        case F_BEAD:
            if (read_string_or_null(c, &line->bead) < 0 || line->bead.n == 0) return -1;
            break;
        case F_ACTOR:
            if (read_string(c, &line->actor) < 0 || line->actor.n == 0) return -1;
            break;
        case F_SOURCE:
            if (read_string(c, &text) < 0 || text.n == 0) return -1;
            break;
        case F_MODEL:
            if (read_string(c, &line->model) < 0 || line->model.n == 0) return -1;
            break;
        case F_TOKENS:
            if (read_tokens(c, line, kinds) < 0) return -1;
            break;
        case F_COST:
            if (c->p < c->end && *c->p == 'n') {
                if (read_null(c) < 0) return -1;
                line->priced = 0;
                line->pico = 0;
            } else {
                if (read_amount(c, &amount) < 0) return -1;
                /* round(cost * 10**12): the float product, rounded half to even */
                double pico = nearbyint(amount * 1e12);
                if (!(pico < 4611686018427387904.0)) return -1; /* 2^62: an int64 sum */
                line->priced = 1;
                line->pico = (int64_t)pico;
            }
            break;
        case F_REPORTED:
            if (c->p < c->end && *c->p == 'n') {
                if (read_null(c) < 0) return -1;
            } else if (read_amount(c, &amount) < 0) {
                return -1;
            }
            break;
        case F_SOURCE_REF:
            if (read_string_or_null(c, &line->ref) < 0) return -1;
            break;
        case F_SESSION:
            if (read_string_or_null(c, &line->session) < 0) return -1;
            break;
        case F_PROVIDER:
        case F_PRICE_REF:
            if (read_string_or_null(c, &text) < 0) return -1;
            break;
        case F_GT_SESSION:
            if (read_string(c, &text) < 0) return -1;
            break;
        case F_MESSAGES:
            if (read_count(c, &number) < 0) return -1;
            break;
        case F_REQUESTS:
            if (read_count(c, &number) < 0 || number < 1) return -1;
            break;
        default:
            return -1;
        }
        if (c->p >= c->end) return -1;
        if (*c->p == '}') {
            c->p++;
            break;
        }
        if (*c->p != ',') return -1;
        c->p++;
    }
    if (c->p != c->end || (seen & REQUIRED) != REQUIRED) return -1;
    if (!(seen & (1u << F_SOURCE_REF))) line->ref.n = -1;
    if (!(seen & (1u << F_SESSION))) line->session.n = -1;
    return 0;
}

/* ---- keys of source_refs: crc32 and adler32 of kind NUL ref, as rows.ref_keys ---- */

static uint32_t crc_table[256];



static uint32_t crc_more(uint32_t crc, const char *p, Py_ssize_t n) {
    crc = ~crc;
    for (Py_ssize_t i = 0; i < n; i++) crc = crc_table[(crc ^ (unsigned char)p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t adler_more(uint32_t adler, const char *p, Py_ssize_t n) {
    /* the sums are reduced every 5552 bytes: below that they cannot pass 2^32 */
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (n > 0) {
        Py_ssize_t run = n < 5552 ? n : 5552;
        for (Py_ssize_t i = 0; i < run; i++) {
            a += (unsigned char)p[i];
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
        p += run;
        n -= run;
    }
    return (b << 16) | a;
}

/* crc32 and adler32 of each kind's prefix (its name and a NUL): usage 0, outcome 1 */
static uint32_t PREFIX_CRC[2], PREFIX_ADLER[2];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    PREFIX_CRC[0] = crc_more(0, "usage", 6);
    PREFIX_ADLER[0] = adler_more(1, "usage", 6);
    PREFIX_CRC[1] = crc_more(0, "outcome", 8);
    PREFIX_ADLER[1] = adler_more(1, "outcome", 8);
}

static uint64_t ref_key(int kind, Span ref) {
    uint32_t crc = crc_more(PREFIX_CRC[kind], ref.p, ref.n);
    uint32_t adler = adler_more(PREFIX_ADLER[kind], ref.p, ref.n);
    return ((uint64_t)adler << 32) | crc;
}

/* ---- exact repeats among the lines taken: a set of (key, text) ---- */

static int same(Span a, Span b) {
    if (a.n != b.n) return 0;
    for (Py_ssize_t i = 0; i < a.n; i++)
        if (a.p[i] != b.p[i]) return 0;
    return 1;
}


typedef struct {
    uint64_t key;
    Span text;
    int used;
} Entry;

typedef struct {
    Entry *entries;
    size_t mask, used;
} KeySet;

static int keyset_init(KeySet *set) {
    set->entries = PyMem_RawCalloc(64, sizeof(Entry));
    set->mask = 63;
    set->used = 0;
    return set->entries == NULL ? -1 : 0;
}

static size_t spread(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key;
}

/* 0: added; 1: the text is there already, or many texts share the key (made so, never by
 * chance): the blob goes the Python way; -1: no memory */
static int keyset_add(KeySet *set, uint64_t key, Span text) {
    size_t j = spread(key) & set->mask;
    int sharing = 0;
    while (set->entries[j].used) {
        Entry *e = &set->entries[j];
        if (e->key == key) {
            if (same(e->text, text) || ++sharing > 16) return 1;
        }
        j = (j + 1) & set->mask;
    }
    set->entries[j].used = 1;
    set->entries[j].key = key;
    set->entries[j].text = text;
    if (++set->used * 2 > set->mask + 1) {
        size_t size = (set->mask + 1) * 2;
        Entry *entries = PyMem_RawCalloc(size, sizeof(Entry));
        if (entries == NULL) return -1;
        for (size_t i = 0; i <= set->mask; i++) {
            if (!set->entries[i].used) continue;
            size_t k = spread(set->entries[i].key) & (size - 1);
            while (entries[k].used) k = (k + 1) & (size - 1);
            entries[k] = set->entries[i];
        }
        PyMem_RawFree(set->entries);
        set->entries = entries;
        set->mask = size - 1;
    }
    return 0;
}

/* a growing array of 64-bit keys */
typedef struct {
    uint64_t *items;
    Py_ssize_t n, cap;
} Keys64;

static int keys64_push(Keys64 *k, uint64_t value) {
    if (k->n == k->cap) {
        Py_ssize_t cap = k->cap ? k->cap * 2 : 256;
        uint64_t *items = PyMem_RawRealloc(k->items, (size_t)cap * sizeof(uint64_t));
        if (items == NULL) return -1;
        k->items = items;
        k->cap = cap;
    }
    k->items[k->n++] = value;
    return 0;
}

/* ---- rows: an open-addressing table on (bead, actor, model, day, priced, session) ---- */

typedef struct {
    Span bead, actor, model, day, session;
    int priced, cut;
    int64_t sums[6]; /* records, input, output, cache_read, cache_write, reasoning */
    int64_t pico;
    Span first; /* the smallest ts */
    uint64_t hash;
    int used;
} Slot;

static uint64_t mix(uint64_t h, Span s) {
    /* eight bytes at a time: a hash for tables, never stored */
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    if (s.n < 0) return (h ^ 0xff) * k;
    Py_ssize_t i = 0;
    for (; i + 8 <= s.n; i += 8) {
        uint64_t w;
        memcpy(&w, s.p + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    memcpy(&w, s.p + i, (size_t)(s.n - i));
    h = (h ^ w ^ ((uint64_t)s.n << 56)) * k;
    return h ^ (h >> 29);
}

static int span_less(Span a, Span b) { /* equal-length ts texts */
    return memcmp(a.p, b.p, (size_t)a.n) < 0;
}

typedef struct {
    Slot *slots;
    size_t mask, used;
} Table;

static int table_grow(Table *t) {
    size_t size = (t->mask + 1) * 2;
    Slot *slots = PyMem_RawCalloc(size, sizeof(Slot));
    if (slots == NULL) return -1;
    for (size_t i = 0; i <= t->mask; i++) {
        if (!t->slots[i].used) continue;
        size_t j = t->slots[i].hash & (size - 1);
        while (slots[j].used) j = (j + 1) & (size - 1);
        slots[j] = t->slots[i];
    }
    PyMem_RawFree(t->slots);
    t->slots = slots;
    t->mask = size - 1;
    return 0;
}

/* 0: added; 1: a sum would pass 2^63 (the blob goes the Python way); -1: no memory */
static int table_add(Table *t, const Line *line) {
    Span day = {line->ts.p, 10};
    uint64_t h = 14695981039346656037ull;
    h = mix(h, line->bead);
    h = mix(h, line->actor);
    h = mix(h, line->model);
    h = mix(h, day);
    h = mix(h, line->session);
    h = (h ^ (uint64_t)line->priced ^ ((uint64_t)line->cut << 2)) * 1099511628211ull;
    size_t j = h & t->mask;
    Slot *slot;
    for (;;) {
        slot = &t->slots[j];
        if (!slot->used) break;
        if (slot->hash == h && slot->priced == line->priced && slot->cut == line->cut &&
            same(slot->bead, line->bead) &&
            same(slot->actor, line->actor) && same(slot->model, line->model) &&
            same(slot->day, day) && same(slot->session, line->session))
            break;
        j = (j + 1) & t->mask;
    }
    if (!slot->used) {
        slot->used = 1;
        slot->hash = h;
        slot->bead = line->bead;
        slot->actor = line->actor;
        slot->model = line->model;
        slot->day = day;
        slot->session = line->session;
        slot->priced = line->priced;
        slot->cut = line->cut;
        slot->first = line->ts;
        t->used++;
    } else if (span_less(line->ts, slot->first)) {
        slot->first = line->ts;
    }
    int64_t add[6] = {1, line->tokens[0], line->tokens[1], line->tokens[2], line->tokens[3],
                      line->tokens[4]};
    for (int i = 0; i < 6; i++)
        if (__builtin_add_overflow(slot->sums[i], add[i], &slot->sums[i])) return 1;
    if (__builtin_add_overflow(slot->pico, line->pico, &slot->pico)) return 1;
    if (t->used * 2 > t->mask + 1 && table_grow(t) < 0) return -1;
    return 0;
}

/* ---- Python objects: equal texts become one str (as rows.shared makes them) ---- */

typedef struct {
    PyObject **items;
    Span *texts;
    uint64_t *hashes;
    size_t mask, used;
} Strings;

static PyObject *text_of(Strings *s, Span text) {
    /* a new reference to the one str of text (None for null) */
    if (text.n < 0) Py_RETURN_NONE;
    uint64_t h = mix(14695981039346656037ull, text);
    if ((s->used + 1) * 2 > s->mask + 1) {
        size_t size = (s->mask + 1) * 2;
        PyObject **items = PyMem_RawCalloc(size, sizeof(PyObject *));
        Span *texts = PyMem_RawCalloc(size, sizeof(Span));
        uint64_t *hashes = PyMem_RawCalloc(size, sizeof(uint64_t));
        if (items == NULL || texts == NULL || hashes == NULL) {
            PyMem_RawFree(items);
            PyMem_RawFree(texts);
            PyMem_RawFree(hashes);
            return PyErr_NoMemory();
        }
        for (size_t i = 0; i <= s->mask; i++) {
            if (s->items[i] == NULL) continue;
            size_t j = s->hashes[i] & (size - 1);
            while (items[j] != NULL) j = (j + 1) & (size - 1);
            items[j] = s->items[i];
            texts[j] = s->texts[i];
            hashes[j] = s->hashes[i];
        }
        PyMem_RawFree(s->items);
        PyMem_RawFree(s->texts);
        PyMem_RawFree(s->hashes);
        s->items = items;
        s->texts = texts;
        s->hashes = hashes;
        s->mask = size - 1;
    }
    size_t j = h & s->mask;
    while (s->items[j] != NULL) {
        if (s->hashes[j] == h && same(s->texts[j], text)) {
            Py_INCREF(s->items[j]);
            return s->items[j];
        }
        j = (j + 1) & s->mask;
    }
    PyObject *str = PyUnicode_DecodeASCII(text.p, text.n, NULL);
    if (str == NULL) return NULL;
    s->items[j] = str;
    s->texts[j] = text;
    s->hashes[j] = h;
    s->used++;
    Py_INCREF(str);
    return str;
}

static void strings_free(Strings *s) {
    if (s->items != NULL)
        for (size_t i = 0; i <= s->mask; i++) Py_XDECREF(s->items[i]);
    PyMem_RawFree(s->items);
    PyMem_RawFree(s->texts);
    PyMem_RawFree(s->hashes);
}

/* ---- outcome lines: a dict equal to orjson's, for those in bd-vpt's own shape ---- */

enum {
    O_KIND, O_V, O_ID, O_TS, O_BEAD, O_ACTOR, O_SOURCE, O_RESULT, O_SOURCE_REF, O_COMPLETION,
    O_SNAPSHOT, O_VALUE, O_MINUTES, O_QUALITY, O_CONFIDENCE, O_REASON, O_EVIDENCE, O_COMMIT,
    O_COUNT
};
static const char *const OUTCOME_NAMES[O_COUNT] = {
    "kind", "v", "id", "ts", "bead", "actor", "source", "result", "source_ref", "completion",
    "snapshot", "value_usd", "human_minutes", "quality", "confidence", "reason", "evidence",
    "commit",
};
static const uint32_t OUTCOME_REQUIRED = (1u << O_KIND) | (1u << O_V) | (1u << O_ID) |
                                         (1u << O_TS) | (1u << O_BEAD) | (1u << O_ACTOR) |
                                         (1u << O_SOURCE) | (1u << O_RESULT);
enum { S_PRIORITY, S_TYPE, S_TITLE, S_LABELS, S_COUNT };
static const char *const SNAPSHOT_NAMES[S_COUNT] = {"priority", "type", "title", "labels"};
static const char *const RESULTS[4] = {"completed", "reopened", "rejected", "abandoned"};

static PyObject *OUTCOME_KEYS[O_COUNT], *SNAPSHOT_KEYS[S_COUNT]; /* interned */

static int outcome_init(void) {
    for (int i = 0; i < O_COUNT; i++)
        if ((OUTCOME_KEYS[i] = PyUnicode_InternFromString(OUTCOME_NAMES[i])) == NULL) return -1;
    for (int i = 0; i < S_COUNT; i++)
        if ((SNAPSHOT_KEYS[i] = PyUnicode_InternFromString(SNAPSHOT_NAMES[i])) == NULL) return -1;
    return 0;
}

typedef struct {
    Span id, ref;
    int64_t id_key;
} Ended;

/* A number in [0, high] as orjson reads it: an int for a plain integer, else a float.
 * NULL with no exception: leave the line. */
static PyObject *read_number(Cur *c, double high) {
    const char *start = c->p;
    int64_t whole;
    if (read_count(c, &whole) == 0) {
        if ((double)whole > high) return NULL;
        return PyLong_FromLongLong(whole);
    }
    c->p = start;
    double value;
    if (read_amount(c, &value) < 0 || value > high) return NULL;
    return PyFloat_FromDouble(value);
}

/* a str of text (shared), None for null; NULL with no exception: leave the line */
static PyObject *read_text(Cur *c, Strings *strings, int nullable, int nonempty) {
    Span text;
    if (nullable && c->p < c->end && *c->p == 'n') {
        if (read_null(c) < 0) return NULL;
        Py_RETURN_NONE;
    }
    if (read_string(c, &text) < 0 || (nonempty && text.n == 0)) return NULL;
    return text_of(strings, text);
}

static PyObject *read_snapshot(Cur *c, Strings *strings, Keys *keys) {
    if (c->p < c->end && *c->p == 'n') {
        if (read_null(c) < 0) return NULL;
        Py_RETURN_NONE;
    }
    if (c->p >= c->end || *c->p != '{') return NULL;
    c->p++;
    PyObject *snapshot = PyDict_New();
    if (snapshot == NULL) return NULL;
    unsigned seen = 0;
    int k = S_COUNT;
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return snapshot;
    }
    for (;;) {
        k = read_key(c, keys, k);
        if (k < 0 || (seen & (1u << k))) goto leave;
        seen |= 1u << k;
        PyObject *value = NULL;
        if (k == S_PRIORITY) {
            int64_t priority;
            if (c->p < c->end && *c->p == 'n') {
                if (read_null(c) < 0) goto leave;
                value = Py_None;
                Py_INCREF(value);
            } else {
                if (read_count(c, &priority) < 0 || priority > 4) goto leave;
                value = PyLong_FromLongLong(priority);
            }
        } else if (k == S_LABELS) {
            if (c->p >= c->end || *c->p != '[') goto leave;
            c->p++;
            value = PyList_New(0);
            if (value == NULL) goto fail;
            if (c->p < c->end && *c->p == ']') {
                c->p++;
            } else {
                for (;;) {
                    PyObject *label = read_text(c, strings, 0, 0);
                    if (label == NULL || PyList_Append(value, label) < 0) {
                        Py_XDECREF(label);
                        Py_DECREF(value);
                        goto leave;
                    }
                    Py_DECREF(label);
                    if (c->p >= c->end) {
                        Py_DECREF(value);
                        goto leave;
                    }
                    if (*c->p == ']') {
                        c->p++;
                        break;
                    }
                    if (*c->p != ',') {
                        Py_DECREF(value);
                        goto leave;
                    }
                    c->p++;
                }
            }
        } else {
            value = read_text(c, strings, 1, 0);
        }
        if (value == NULL) goto leave;
        int bad = PyDict_SetItem(snapshot, SNAPSHOT_KEYS[k], value);
        Py_DECREF(value);
        if (bad < 0) goto fail;
        if (c->p >= c->end) goto leave;
        if (*c->p == '}') {
            c->p++;
            return snapshot;
        }
        if (*c->p != ',') goto leave;
        c->p++;
    }
leave:
fail:
    Py_DECREF(snapshot);
    return NULL;
}

/* The outcome of a line in bd-vpt's own shape, as a dict equal to orjson.loads(line) that
 * records.check accepts; NULL: leave the line (an exception set: fail). */
static PyObject *read_outcome(const char *p, const char *end, Ended *ended, Strings *strings,
                              Keys *fields, Keys *snapshot_keys) {
    Cur cur = {p, end};
    Cur *c = &cur;
    uint32_t seen = 0;
    int f = O_COUNT;
    Span text;
    PyObject *record = PyDict_New();
    if (record == NULL) return NULL;
    ended->ref.n = -1;
    if (c->p >= c->end || *c->p != '{') goto leave;
    c->p++;
    for (;;) {
        f = read_key(c, fields, f);
        if (f < 0 || (seen & (1u << f))) goto leave;
        seen |= 1u << f;
        PyObject *value = NULL;
        const char *at = c->p;
        switch (f) {
        case O_KIND:
            if (read_string(c, &text) < 0 || text.n != 7 || memcmp(text.p, "outcome", 7) != 0)
                goto leave;
            break;
        case O_V: {
            int64_t v;
            if (read_count(c, &v) < 0 || v != 1) goto leave;
            value = PyLong_FromLong(1);
            break;
        }
        case O_ID:
            if (read_string(c, &ended->id) < 0 || !ulid_key(ended->id, &ended->id_key))
                goto leave;
            break;
        case O_TS:
            if (read_string(c, &text) < 0 || !is_stamp(text)) goto leave;
            break;
        case O_RESULT: {
            int known = 0;
            if (read_string(c, &text) < 0) goto leave;
            for (int i = 0; i < 4; i++)
                known |= (size_t)text.n == strlen(RESULTS[i]) &&
                         memcmp(text.p, RESULTS[i], (size_t)text.n) == 0;
            if (!known) goto leave;
            break;
        }
        case O_SOURCE_REF:
            if (c->p < c->end && *c->p != 'n' && read_string(c, &ended->ref) < 0) goto leave;
            c->p = at;
            value = read_text(c, strings, 1, 0);
            break;
        case O_BEAD:
        case O_ACTOR:
        case O_SOURCE:
            value = read_text(c, strings, 0, 1);
            break;
        case O_REASON:
        case O_EVIDENCE:
        case O_COMMIT:
            value = read_text(c, strings, 1, 0);
            break;
        case O_COMPLETION:
            value = read_number(c, 1.0);
            break;
        case O_QUALITY:
        case O_CONFIDENCE:
        case O_VALUE:
        case O_MINUTES:
            if (c->p < c->end && *c->p == 'n') {
                if (read_null(c) < 0) goto leave;
                value = Py_None;
                Py_INCREF(value);
            } else {
                value = read_number(c, f == O_QUALITY || f == O_CONFIDENCE ? 1.0 : 1e15);
            }
            break;
        case O_SNAPSHOT:
            value = read_snapshot(c, strings, snapshot_keys);
            break;
        default:
            goto leave;
        }
        if (value == NULL) { /* kind, id, ts, result: the text as read, one str for all */
            if (PyErr_Occurred()) goto fail;
            if (f != O_KIND && f != O_ID && f != O_TS && f != O_RESULT) goto leave;
            Span read = {at + 1, c->p - at - 2};
            value = f == O_ID || f == O_TS ? PyUnicode_DecodeASCII(read.p, read.n, NULL)
                                           : text_of(strings, read);
            if (value == NULL) goto fail;
        }
        int bad = PyDict_SetItem(record, OUTCOME_KEYS[f], value);
        Py_DECREF(value);
        if (bad < 0) goto fail;
        if (c->p >= c->end) goto leave;
        if (*c->p == '}') {
            c->p++;
            break;
        }
        if (*c->p != ',') goto leave;
        c->p++;
    }
    if (c->p != c->end || (seen & OUTCOME_REQUIRED) != OUTCOME_REQUIRED) goto leave;
    return record;
leave:
fail:
    Py_DECREF(record);
    return NULL;
}

static PyObject *row_dict(Table *t, Strings *strings) {
    PyObject *rows = PyDict_New();
    if (rows == NULL) return NULL;
    for (size_t i = 0; i <= t->mask; i++) {
        Slot *slot = &t->slots[i];
        if (!slot->used) continue;
        /* key (bead, actor, model, day, shape, cut, session): shape 1 is unpriced, cut 0 */
        PyObject *key = PyTuple_New(7);
        PyObject *row = PyList_New(9);
        if (key == NULL || row == NULL) goto fail;
        Span parts[5] = {slot->bead, slot->actor, slot->model, slot->day, slot->session};
        int places[5] = {0, 1, 2, 3, 6};
        for (int k = 0; k < 5; k++) {
            PyObject *text = text_of(strings, parts[k]);
            if (text == NULL) goto fail;
            PyTuple_SET_ITEM(key, places[k], text);
        }
        PyObject *shape = PyLong_FromLong(slot->priced ? 0 : 1);
        PyObject *cut = PyLong_FromLong(slot->cut);
        if (shape == NULL || cut == NULL) {
            Py_XDECREF(shape);
            Py_XDECREF(cut);
            goto fail;
        }
        PyTuple_SET_ITEM(key, 4, shape);
        PyTuple_SET_ITEM(key, 5, cut);
        int64_t values[8] = {slot->sums[0], slot->sums[1], slot->sums[2], slot->sums[3],
                             slot->sums[4], slot->sums[5], 0, slot->pico};
        for (int k = 0; k < 8; k++) {
            PyObject *value = PyLong_FromLongLong(values[k]);
            if (value == NULL) goto fail;
            PyList_SET_ITEM(row, k, value);
        }
        PyObject *first = PyUnicode_DecodeASCII(slot->first.p, slot->first.n, NULL);
        if (first == NULL) goto fail;
        PyList_SET_ITEM(row, 8, first);
        int bad = PyDict_SetItem(rows, key, row);
        Py_DECREF(key);
        Py_DECREF(row);
        if (bad < 0) {
            Py_DECREF(rows);
            return NULL;
        }
        continue;
    fail:
        Py_XDECREF(key);
        Py_XDECREF(row);
        Py_DECREF(rows);
        return NULL;
    }
    return rows;
}

/* ---- fold(data) ---- */

static int is_blank(const char *p, const char *end) {
    /* bytes.isspace() of a line, or an empty line */
    for (; p < end; p++) {
        char ch = *p;
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\v' && ch != '\f') return 0;
    }
    return 1;
}

/* the lines phase 1 left for phase 2, in order */
typedef struct {
    Py_ssize_t index;
    const char *p, *stop;
} Left;

typedef struct {
    Left *items;
    Py_ssize_t n, cap;
} Lefts;

static int lefts_push(Lefts *lefts, Py_ssize_t index, const char *p, const char *stop) {
    if (lefts->n == lefts->cap) {
        Py_ssize_t cap = lefts->cap ? lefts->cap * 2 : 64;
        Left *items = PyMem_RawRealloc(lefts->items, (size_t)cap * sizeof(Left));
        if (items == NULL) return -1;
        lefts->items = items;
        lefts->cap = cap;
    }
    lefts->items[lefts->n].index = index;
    lefts->items[lefts->n].p = p;
    lefts->items[lefts->n].stop = stop;
    lefts->n++;
    return 0;
}

static int read_cut(PyObject *spec, Cut *cut) {
    /* (days: tuple of "YYYY-MM-DD", since: int | None, until: int | None), in microseconds */
    PyObject *days, *since, *until;
    memset(cut, 0, sizeof(*cut));
    if (spec == Py_None) return 0;
    if (!PyArg_ParseTuple(spec, "O!OO", &PyTuple_Type, &days, &since, &until)) return -1;
    if (PyTuple_GET_SIZE(days) > 64) {
        PyErr_SetString(PyExc_ValueError, "at most 64 cut days");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(days); i++) {
        Py_ssize_t n;
        const char *day = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(days, i), &n);
        if (day == NULL) return -1;
        if (n != 10) {
            PyErr_SetString(PyExc_ValueError, "a cut day is YYYY-MM-DD");
            return -1;
        }
        memcpy(cut->days[cut->count++], day, 10);
    }
    if (since != Py_None) {
        cut->has_since = 1;
        cut->since = PyLong_AsLongLong(since);
        if (cut->since == -1 && PyErr_Occurred()) return -1;
    }
    if (until != Py_None) {
        cut->has_until = 1;
        cut->until = PyLong_AsLongLong(until);
        if (cut->until == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

static PyObject *fold(PyObject *module, PyObject *args) {
    PyObject *arg, *spec = Py_None;
    Cut cut;
    if (!PyArg_ParseTuple(args, "O|O", &arg, &spec) || read_cut(spec, &cut) < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const char *data = view.buf, *end = data + view.len;
    PyObject *result = NULL, *rest = NULL, *rows = NULL, *ids = NULL, *refs = NULL;
    Keys fields, kinds, outcome_fields, snapshot_fields;
    KeySet id_set = {NULL, 0, 0}, ref_set = {NULL, 0, 0}, outcome_refs = {NULL, 0, 0};
    Ended ended;
    Keys64 id_keys = {NULL, 0, 0}, ref_keys = {NULL, 0, 0};
    Lefts lefts = {NULL, 0, 0};
    Table table = {NULL, 0, 0};
    Strings strings = {NULL, NULL, NULL, 0, 0};
    Py_ssize_t lines_read = 0;
    Line line;
    keys_init(&fields, FIELD_NAMES, F_COUNT);
    keys_init(&kinds, TOKEN_NAMES, T_COUNT);
    keys_init(&outcome_fields, OUTCOME_NAMES, O_COUNT);
    keys_init(&snapshot_fields, SNAPSHOT_NAMES, S_COUNT);
    table.slots = PyMem_RawCalloc(64, sizeof(Slot));
    table.mask = 63;
    strings.items = PyMem_RawCalloc(64, sizeof(PyObject *));
    strings.texts = PyMem_RawCalloc(64, sizeof(Span));
    strings.hashes = PyMem_RawCalloc(64, sizeof(uint64_t));
    strings.mask = 63;
    if (keyset_init(&id_set) < 0 || keyset_init(&ref_set) < 0 ||
        keyset_init(&outcome_refs) < 0 || table.slots == NULL ||
        strings.items == NULL || strings.texts == NULL || strings.hashes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    rest = PyList_New(0);
    if (rest == NULL) goto done;
    /* Phase 1, without the GIL (other threads fold other blobs meanwhile): the usage lines
     * summed, every other non-blank line noted. The lines before the last newline (what
     * follows it is blank: the caller checks). */
    int status = 0; /* 1: the Python way (a repeat, a sum past 2^63); -1: no memory */
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t index = 0;
    for (const char *p = data; p < end; index++) {
        const char *stop = memchr(p, '\n', (size_t)(end - p));
        if (stop == NULL) break;
        if (!is_blank(p, stop)) {
            lines_read++;
            if (read_line(p, stop, &line, &fields, &kinds) == 0) {
                line.cut = cut.count ? cut_of(&cut, &line.ts) : 0;
                uint64_t id = (uint64_t)line.id_key;
                int added = keyset_add(&id_set, id, line.id);
                uint64_t ref = 0;
                if (added == 0 && line.ref.n >= 0) {
                    ref = ref_key(0, line.ref);
                    added = keyset_add(&ref_set, ref, line.ref);
                }
                if (added == 0) added = table_add(&table, &line);
                if (added == 0 && keys64_push(&id_keys, id) < 0) added = -1;
                if (added == 0 && line.ref.n >= 0 && keys64_push(&ref_keys, ref) < 0) added = -1;
                if (added != 0) {
                    status = added;
                    break;
                }
            } else if (lefts_push(&lefts, index, p, stop) < 0) {
                status = -1;
                break;
            }
        }
        p = stop + 1;
    }
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (status > 0) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    /* Phase 2, with the GIL: the outcomes read, every other line handed on as bytes */
    for (Py_ssize_t i = 0; i < lefts.n; i++) {
        const Left *left = &lefts.items[i];
        const char *p = left->p, *stop = left->stop;
        PyObject *record = NULL, *item;
        if (memmem(p, (size_t)(stop - p), "\"kind\":\"outcome\"", 16) != NULL) {
            record = read_outcome(p, stop, &ended, &strings, &outcome_fields, &snapshot_fields);
            if (record == NULL && PyErr_Occurred()) goto done;
        }
        if (record != NULL) { /* taken: its id and source_ref join the others */
            uint64_t ref = 0;
            int added = keyset_add(&id_set, (uint64_t)ended.id_key, ended.id);
            if (added == 0 && ended.ref.n >= 0) {
                ref = ref_key(1, ended.ref);
                added = keyset_add(&outcome_refs, ref, ended.ref);
            }
            if (added == 0 && keys64_push(&id_keys, (uint64_t)ended.id_key) < 0) added = -1;
            if (added == 0 && ended.ref.n >= 0 && keys64_push(&ref_keys, ref) < 0) added = -1;
            if (added != 0) {
                Py_DECREF(record);
                if (added < 0) {
                    PyErr_NoMemory();
                    goto done;
                }
                result = Py_None;
                Py_INCREF(result);
                goto done;
            }
            item = Py_BuildValue("(nN)", left->index, record);
        } else {
            item = Py_BuildValue("(ny#)", left->index, p, (Py_ssize_t)(stop - p));
        }
        if (item == NULL) goto done;
        int bad = PyList_Append(rest, item);
        Py_DECREF(item);
        if (bad < 0) goto done;
    }
    ids = PyBytes_FromStringAndSize((const char *)id_keys.items, id_keys.n * 8);
    refs = PyBytes_FromStringAndSize((const char *)ref_keys.items, ref_keys.n * 8);
    if (ids == NULL || refs == NULL) goto done;
    rows = row_dict(&table, &strings);
    if (rows == NULL) goto done;
    result = Py_BuildValue("(OOOOn)", rows, ids, refs, rest, lines_read);
done:
    Py_XDECREF(rows);
    Py_XDECREF(ids);
    Py_XDECREF(refs);
    Py_XDECREF(rest);
    PyMem_RawFree(id_set.entries);
    PyMem_RawFree(ref_set.entries);
    PyMem_RawFree(outcome_refs.entries);
    PyMem_RawFree(id_keys.items);
    PyMem_RawFree(ref_keys.items);
    PyMem_RawFree(lefts.items);
    PyMem_RawFree(table.slots);
    strings_free(&strings);
    PyBuffer_Release(&view);
    return result;
}

/* ---- repeated(arrays, signed): keys in more than one array, and all keys sorted ---- */

static void radix_sort(uint64_t *keys, uint64_t *spare, Py_ssize_t n) {
    /* 11 bits a pass, the least significant first (buckets that stay in the caches); a pass
     * where every key has the same digit is skipped */
    static Py_ssize_t counts[2048];
    int swapped = 0;
    for (int shift = 0; shift < 64; shift += 11) {
        memset(counts, 0, sizeof(counts));
        for (Py_ssize_t i = 0; i < n; i++) counts[(keys[i] >> shift) & 2047]++;
        if (n == 0 || counts[(keys[0] >> shift) & 2047] == n) continue;
        Py_ssize_t at = 0;
        for (int d = 0; d < 2048; d++) {
            Py_ssize_t c = counts[d];
            counts[d] = at;
            at += c;
        }
        for (Py_ssize_t i = 0; i < n; i++) spare[counts[(keys[i] >> shift) & 2047]++] = keys[i];
        uint64_t *swap = keys;
        keys = spare;
        spare = swap;
        swapped = !swapped;
    }
    if (swapped) memcpy(spare, keys, (size_t)n * sizeof(uint64_t));
}

static PyObject *repeated(PyObject *module, PyObject *args) {
    PyObject *arrays;
    int is_signed;
    if (!PyArg_ParseTuple(args, "O!p", &PyList_Type, &arrays, &is_signed)) return NULL;
    Py_ssize_t count = PyList_GET_SIZE(arrays), n = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_buffer view;
        if (PyObject_GetBuffer(PyList_GET_ITEM(arrays, i), &view, PyBUF_SIMPLE) < 0) return NULL;
        if (view.len % 8 != 0) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "arrays of 8-byte keys");
            return NULL;
        }
        n += view.len / 8;
        PyBuffer_Release(&view);
    }
    uint64_t *keys = PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    uint64_t *spare = PyMem_RawMalloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
    PyObject *again = NULL, *sorted = NULL, *result = NULL;
    if (keys == NULL || spare == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_buffer view;
        if (PyObject_GetBuffer(PyList_GET_ITEM(arrays, i), &view, PyBUF_SIMPLE) < 0) goto done;
        Py_ssize_t items = view.len / 8;
        if (at + items > n) items = n - at; /* an array grown meanwhile: not possible here */
        memcpy(keys + at, view.buf, (size_t)items * 8);
        at += items;
        PyBuffer_Release(&view);
    }
    uint64_t flip = is_signed ? (1ull << 63) : 0; /* signed order as unsigned order */
    for (Py_ssize_t i = 0; i < at; i++) keys[i] ^= flip;
    radix_sort(keys, spare, at);
    again = PySet_New(NULL);
    if (again == NULL) goto done;
    for (Py_ssize_t i = 1; i < at; i++) {
        if (keys[i] != keys[i - 1]) continue;
        uint64_t key = keys[i] ^ flip;
        PyObject *value = is_signed ? PyLong_FromLongLong((long long)key)
                                    : PyLong_FromUnsignedLongLong(key);
        if (value == NULL || PySet_Add(again, value) < 0) {
            Py_XDECREF(value);
            goto done;
        }
        Py_DECREF(value);
    }
    for (Py_ssize_t i = 0; i < at; i++) keys[i] ^= flip;
    sorted = PyBytes_FromStringAndSize((const char *)keys, at * 8);
    if (sorted == NULL) goto done;
    result = PyTuple_Pack(2, again, sorted);
done:
    Py_XDECREF(again);
    Py_XDECREF(sorted);
    PyMem_RawFree(keys);
    PyMem_RawFree(spare);
    return result;
}

static PyMethodDef methods[] = {
    {"fold", fold, METH_VARARGS,
     "fold(data, cut=None) -> (rows, id_keys, ref_keys, rest, lines_read) | None: a blob's "
     "usage lines "
     "in bd-vpt's own shape summed into rows; rest: the other non-blank lines in order, "
     "(index, bytes), or (index, dict) for an outcome in bd-vpt's own shape, read."},
    {"repeated", repeated, METH_VARARGS,
     "repeated(arrays, signed) -> (keys in more than one array, every key sorted as bytes): "
     "arrays of 8-byte keys (signed: int64, else uint64), each holding distinct keys."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef lane_module = {
    PyModuleDef_HEAD_INIT, "_lane", "The compiled fast lane of a blob's fold (see fast.py).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__lane(void) {
    crc_init();
    plain_init();
    ulid_init();
    if (outcome_init() < 0) return NULL;
    return PyModule_Create(&lane_module);
}
