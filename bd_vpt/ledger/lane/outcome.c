/* Outcome lines in bd-vpt's own shape, read into dicts equal to what orjson reads (key order
 * and number types included); the equal texts of a blob made one str (as rows.shared does). */
#include "lane.h"

PyObject *text_of(Strings *s, Span text) {
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

void strings_free(Strings *s) {
    if (s->items != NULL)
        for (size_t i = 0; i <= s->mask; i++) Py_XDECREF(s->items[i]);
    PyMem_RawFree(s->items);
    PyMem_RawFree(s->texts);
    PyMem_RawFree(s->hashes);
}

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

int outcome_init(void) {
    for (int i = 0; i < O_COUNT; i++)
        if ((OUTCOME_KEYS[i] = PyUnicode_InternFromString(OUTCOME_NAMES[i])) == NULL) return -1;
    for (int i = 0; i < S_COUNT; i++)
        if ((SNAPSHOT_KEYS[i] = PyUnicode_InternFromString(SNAPSHOT_NAMES[i])) == NULL) return -1;
    return 0;
}

void outcome_keys(Keys *fields, Keys *snapshot_keys) {
    keys_init(fields, OUTCOME_NAMES, O_COUNT);
    keys_init(snapshot_keys, SNAPSHOT_NAMES, S_COUNT);
}

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

/* Any JSON value in the lane's shape as orjson reads it: str, int (a plain integer of at most
 * 18 digits), float (correctly rounded: read_amount's numbers and their negatives, never a
 * negative zero), True, False, None, list, dict (a key given twice keeps its first place and
 * its last value, as a dict filled in order does). The value of a key the outcome does not
 * define. NULL with no exception: leave the line. */
static PyObject *build_value(Cur *c, Strings *strings, int depth) {
    Span text;
    if (c->p >= c->end || depth > 32) return NULL;
    char first = *c->p;
    if (first == '"') return read_string(c, &text) < 0 ? NULL : text_of(strings, text);
    if (first == 't' || first == 'f' || first == 'n') {
        const char *word = first == 't' ? "true" : first == 'f' ? "false" : "null";
        size_t n = strlen(word);
        if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return NULL;
        c->p += n;
        PyObject *value = first == 't' ? Py_True : first == 'f' ? Py_False : Py_None;
        Py_INCREF(value);
        return value;
    }
    if (first == '[' || first == '{') {
        int list = first == '[';
        char close = list ? ']' : '}';
        PyObject *made = list ? PyList_New(0) : PyDict_New();
        if (made == NULL) return NULL;
        c->p++;
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return made;
        }
        for (;;) {
            PyObject *key = NULL, *value;
            if (!list) {
                if (read_string(c, &text) < 0 || c->p >= c->end || *c->p++ != ':') break;
                if ((key = text_of(strings, text)) == NULL) break;
            }
            value = build_value(c, strings, depth + 1);
            int bad = value == NULL || (list ? PyList_Append(made, value)
                                             : PyDict_SetItem(made, key, value)) < 0;
            Py_XDECREF(key);
            Py_XDECREF(value);
            int after = bad ? -1 : after_member(c, close);
            if (after < 0) break;
            if (after > 0) return made;
        }
        Py_DECREF(made);
        return NULL;
    }
    int negative = first == '-';
    if (negative) c->p++;
    const char *start = c->p;
    int digits = 0;
    while (start + digits < c->end && start[digits] >= '0' && start[digits] <= '9') digits++;
    const char *after = start + digits;
    int whole = digits > 0 && digits <= 18 && (digits == 1 || *start != '0') &&
                !(after < c->end && (*after == '.' || *after == 'e' || *after == 'E'));
    if (whole) {
        long long value = 0;
        for (int i = 0; i < digits; i++) value = value * 10 + (start[i] - '0');
        if (negative && value == 0) return NULL; /* -0 */
        c->p = after;
        return PyLong_FromLongLong(negative ? -value : value);
    }
    double amount;
    if (read_amount(c, &amount) < 0 || (negative && amount == 0.0)) return NULL;
    return PyFloat_FromDouble(negative ? -amount : amount);
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
                    int after = after_member(c, ']');
                    if (after < 0) {
                        Py_DECREF(value);
                        goto leave;
                    }
                    if (after > 0) break;
                }
            }
        } else {
            value = read_text(c, strings, 1, 0);
        }
        if (value == NULL) goto leave;
        int bad = PyDict_SetItem(snapshot, SNAPSHOT_KEYS[k], value);
        Py_DECREF(value);
        if (bad < 0) goto fail;
        int after = after_member(c, '}');
        if (after < 0) goto leave;
        if (after > 0) return snapshot;
    }
leave:
fail:
    Py_DECREF(snapshot);
    return NULL;
}

/* The outcome of a line in bd-vpt's own shape, as a dict equal to orjson.loads(line) that
 * records.check accepts; NULL: leave the line (an exception set: fail). */
PyObject *read_outcome(const char *p, const char *end, Ended *ended, Strings *strings,
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
        const char *key_at = c->p;
        int key = read_key(c, fields, f);
        if (key == UNKNOWN_KEY) { /* a field the outcome does not define: kept as read */
            Span name = {key_at + 1, (c->p - 2) - (key_at + 1)};
            PyObject *name_text = text_of(strings, name);
            if (name_text == NULL) goto fail;
            PyObject *value = build_value(c, strings, 0);
            int bad = value == NULL || PyDict_SetItem(record, name_text, value) < 0;
            Py_DECREF(name_text);
            Py_XDECREF(value);
            if (bad) goto leave; /* (a failure too, when an exception is set) */
            goto next;
        }
        f = key;
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
    next:;
        int after = after_member(c, '}');
        if (after < 0) goto leave;
        if (after > 0) break;
    }
    if (c->p != c->end || (seen & OUTCOME_REQUIRED) != OUTCOME_REQUIRED) goto leave;
    return record;
leave:
fail:
    Py_DECREF(record);
    return NULL;
}
