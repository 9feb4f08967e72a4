/* Usage lines in bd-vpt's own shape, summed into rows keyed and valued as rows.py's Python
 * lane sums them: (bead, actor, model, day, shape, cut, session) -> [records, input, output,
 * cache_read, cache_write, reasoning, 0, picodollars, first ts]. */
#include "lane.h"

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

void usage_keys(Keys *fields, Keys *kinds) {
    keys_init(fields, FIELD_NAMES, F_COUNT);
    keys_init(kinds, TOKEN_NAMES, T_COUNT);
}

int cut_of(Cut *cut, const Span *ts) {
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
    int64_t *values = line->tokens; /* (each kind at its T_ place) */
    unsigned seen = 0;
    memset(line->tokens, 0, sizeof(line->tokens));
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
            int after = read_count(c, &values[k]) < 0 ? -1 : after_member(c, '}');
            if (after < 0) return -1;
            if (after > 0) break;
        }
    }
    /* neither input nor output: its count depends on its kinds (records.token_total) */
    if (!(seen & ((1u << T_INPUT) | (1u << T_OUTPUT)))) return -1;
    return 0;
}

static double round_even(double x) {
    /* nearbyint(x) for x >= 0 (rounded half to even, the default rounding), without a call:
     * below 2^52, adding 2^52 leaves no fraction and taking it away again is exact; from 2^52
     * up, x has no fraction */
    const double big = 4503599627370496.0; /* 2^52 */
    return x < big ? (x + big) - big : x;
}

int read_line(const char *p, const char *end, Line *line, Keys *fields, Keys *kinds) {
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
        int key = read_key(c, fields, f);
        if (key == UNKNOWN_KEY) { /* a field the record does not define: read past */
            if (skip_value(c, 0) < 0) return -1;
            goto next;
        }
        f = key;
        if (f < 0 || (seen & (1u << f))) return -1;
        seen |= 1u << f;
        switch (f) {
        /* kind, v, id, ts: read in place, as read_string and read_count would take them (a
         * ULID and a stamp have no quote, backslash or byte outside printable ASCII) */
        case F_KIND:
            if (c->end - c->p < 7 || memcmp(c->p, "\"usage\"", 7) != 0) return -1;
            c->p += 7;
            break;
        case F_V: /* 1 (a count of 1 is one digit; what follows it, after_member reads) */
            if (c->p >= c->end || *c->p != '1') return -1;
            c->p++;
            break;
        case F_ID:
            line->id.p = c->p + 1;
            line->id.n = 26;
            if (c->end - c->p < 28 || c->p[0] != '"' || c->p[27] != '"' ||
                !ulid_key(line->id, &line->id_key))
                return -1;
            c->p += 28;
            break;
        case F_TS:
            line->ts.p = c->p + 1;
            line->ts.n = 24;
            if (c->end - c->p < 26 || c->p[0] != '"' || c->p[25] != '"' || !is_stamp(line->ts))
                return -1;
            c->p += 26;
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
                double pico = round_even(amount * 1e12);
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
    next:;
        int after = after_member(c, '}');
        if (after < 0) return -1;
        if (after > 0) break;
    }
    if (c->p != c->end || (seen & REQUIRED) != REQUIRED) return -1;
    if (!(seen & (1u << F_SOURCE_REF))) line->ref.n = -1;
    if (!(seen & (1u << F_SESSION))) line->session.n = -1;
    return 0;
}

static int span_less(Span a, Span b) { /* ts texts (24 bytes) */
#if WORDS
    if (a.n == 24 && b.n == 24) { /* as memcmp: the words' bytes the first the highest */
        for (int i = 0; i < 24; i += 8) {
            uint64_t x = __builtin_bswap64(load8(a.p + i)), y = __builtin_bswap64(load8(b.p + i));
            if (x != y) return x < y;
        }
        return 0;
    }
#endif
    return memcmp(a.p, b.p, (size_t)a.n) < 0;
}

static int table_grow(Table *t) {
    size_t size = (t->mask + 1) * 2;
    Slot *slots = kept_take(size * sizeof(Slot), 1);
    if (slots == NULL) return -1;
    for (size_t i = 0; i <= t->mask; i++) {
        if (!t->slots[i].used) continue;
        size_t j = t->slots[i].hash & (size - 1);
        while (slots[j].used) j = (j + 1) & (size - 1);
        slots[j] = t->slots[i];
    }
    kept_give(t->slots, (t->mask + 1) * sizeof(Slot));
    t->slots = slots;
    t->last = NULL;
    t->mask = size - 1;
    return 0;
}

/* 0: added; 1: a sum would pass 2^63 (the blob goes the Python way); -1: no memory */
static int is_slot_of(const Slot *slot, const Line *line, Span day) {
    return slot->priced == line->priced && slot->cut == line->cut &&
           same(slot->bead, line->bead) && same(slot->model, line->model) &&
           same(slot->actor, line->actor) && same(slot->day, day) &&
           same(slot->session, line->session);
}

int table_add(Table *t, const Line *line) {
    Span day = {line->ts.p, 10};
    Slot *slot = t->last;
    if (slot != NULL && is_slot_of(slot, line, day)) goto add; /* no hash, no probe */
    uint64_t h = 14695981039346656037ull;
    h = mix(h, line->bead);
    h = mix(h, line->actor);
    h = mix(h, line->model);
    h = mix(h, day);
    h = mix(h, line->session);
    h = (h ^ (uint64_t)line->priced ^ ((uint64_t)line->cut << 2)) * 1099511628211ull;
    size_t j = h & t->mask;
    for (;;) {
        slot = &t->slots[j];
        if (!slot->used || (slot->hash == h && is_slot_of(slot, line, day))) break;
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
    } else {
    add:
        if (span_less(line->ts, slot->first)) slot->first = line->ts;
    }
    t->last = slot;
    int64_t add[6] = {1, line->tokens[0], line->tokens[1], line->tokens[2], line->tokens[3],
                      line->tokens[4]};
    for (int i = 0; i < 6; i++)
        if (__builtin_add_overflow(slot->sums[i], add[i], &slot->sums[i])) return 1;
    if (__builtin_add_overflow(slot->pico, line->pico, &slot->pico)) return 1;
    if (t->used * 2 > t->mask + 1 && table_grow(t) < 0) return -1;
    return 0;
}

PyObject *row_dict(Table *t, Strings *strings) {
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
