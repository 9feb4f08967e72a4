/* bd_vpt.capture._claude: the compiled reader of Claude Code transcript lines (see
 * claude_code.py, whose Python reader stays the judge).
 *
 * read(text, first, message) splits text at its newlines up to the last one (what follows is
 * left to the caller) and, for each line, in order:
 * - a blank line is passed over; a line over MAX_LINE bytes, or without '"usage"', is counted;
 * - a line of the usual shape becomes message(key, session, moment, model, tokens, sidechain,
 *   commands, day, cwd), the values claude_line._fast() gives it: valid JSON and UTF-8
 *   throughout, message.usage an object with integer input and output tokens, the message's
 *   id and requestId, model (not <synthetic>), sessionId and cwd strings without escapes, a
 *   timestamp in Claude Code's own form (2026-10-01T12:34:56.789Z) on a real day, and no
 *   field the reader looks at given twice;
 * - any other line is handed back as (line number, bytes), for the Python reader.
 * Returns (items, lines, not_usage, too_long, newlines, rest): items in line order, the
 * non-blank lines, those without '"usage"', those too long, the newlines in text, and where
 * the last line ends.
 */
#include "claude.h"

#include <datetime.h>
#include <stddef.h>

#define MAX_LINE (16 * 1024 * 1024) /* transcripts.MAX_LINE */
#define MAX_BLOCKS 64

static PyObject *K_INPUT, *K_OUTPUT, *K_READ, *K_WRITE, *K_HOUR, *K_BD;

typedef struct {
    Str mid, rid, session, stamp, model, cwd;
    int has_message, has_usage, sidechain;
    int64_t tokens[4]; /* input, output, cache_read, cache_write */
    int has_tokens[2];
    int64_t hour;
    int n_commands;
    Str commands[MAX_BLOCKS]; /* the tool_use blocks' commands, in order (last: not cleared) */
} Line;

/* the key (without its quotes) at c, as read by json_string, then the colon */
static int member(Cur *c, Str *key) {
    if (json_string(c, key) < 0 || key->escaped) return -1;
    json_ws(c);
    if (c->p >= c->end || *c->p != ':') return -1;
    c->p++;
    json_ws(c);
    return 0;
}

static int is(const Str *key, const char *name) {
    size_t n = strlen(name);
    return (size_t)key->n == n && memcmp(key->p, name, n) == 0;
}

/* a string or null (n = -1) */
static int string_or_null(Cur *c, Str *out) {
    if (c->p < c->end && *c->p == 'n') {
        out->n = -1;
        return json_literal(c, "null");
    }
    return json_string(c, out);
}

/* Walks an object's members: for each, seen() is checked (a name given twice declines the
 * line) and one() reads the value. */
#define OBJECT(c, ...)                                                                        \
    do {                                                                                       \
        int empty = json_open((c), '{', '}');                                                  \
        if (empty < 0) return -1;                                                              \
        if (empty) break;                                                                      \
        for (;;) {                                                                             \
            Str key;                                                                           \
            if (member((c), &key) < 0) return -1;                                              \
            __VA_ARGS__;                                                                       \
            int closed = json_next((c), '}');                                                  \
            if (closed < 0) return -1;                                                         \
            if (closed) break;                                                                 \
        }                                                                                      \
    } while (0)

#define ONCE(bit)                                                                              \
    do {                                                                                       \
        if (seen & (bit)) return -1;                                                           \
        seen |= (bit);                                                                         \
    } while (0)

static int read_input(Cur *c, Str *command) {
    unsigned seen = 0;
    command->n = -1;
    OBJECT(c, {
        if (is(&key, "command")) {
            ONCE(1);
            if (string_or_null(c, command) < 0) return -1;
        } else if (json_skip(c, 0) < 0) {
            return -1;
        }
    });
    return 0;
}

static int read_block(Cur *c, Line *line) {
    unsigned seen = 0;
    Str type = {NULL, -1, 0}, command = {NULL, -1, 0};
    int has_input = 0;
    OBJECT(c, {
        if (is(&key, "type")) {
            ONCE(1);
            if (string_or_null(c, &type) < 0 || type.escaped) return -1;
        } else if (is(&key, "input")) {
            ONCE(2);
            if (c->p < c->end && *c->p == 'n') {
                if (json_literal(c, "null") < 0) return -1;
            } else {
                if (read_input(c, &command) < 0) return -1;
                has_input = 1;
            }
        } else if (json_skip(c, 0) < 0) {
            return -1;
        }
    });
    if (has_input && command.n >= 0 && type.n == 8 && memcmp(type.p, "tool_use", 8) == 0) {
        if (line->n_commands >= MAX_BLOCKS) return -1;
        line->commands[line->n_commands++] = command;
    }
    return 0;
}

static int read_content(Cur *c, Line *line) {
    if (c->p < c->end && *c->p == 'n') return json_literal(c, "null");
    int empty = json_open(c, '[', ']');
    if (empty) return empty < 0 ? -1 : 0;
    for (;;) {
        if (read_block(c, line) < 0) return -1;
        int closed = json_next(c, ']');
        if (closed < 0) return -1;
        if (closed) return 0;
    }
}

static int read_count(Cur *c, int64_t *out) {
    return json_int(c, out);
}

static int read_creation(Cur *c, Line *line) {
    unsigned seen = 0;
    if (c->p < c->end && *c->p == 'n') return json_literal(c, "null");
    OBJECT(c, {
        if (is(&key, "ephemeral_1h_input_tokens")) {
            ONCE(1);
            if (read_count(c, &line->hour) < 0) return -1;
        } else if (json_skip(c, 0) < 0) {
            return -1;
        }
    });
    return 0;
}

static int read_usage(Cur *c, Line *line) {
    static const char *const counts[4] = {
        "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"};
    unsigned seen = 0;
    line->has_usage = 1;
    OBJECT(c, {
        int which = -1;
        for (int i = 0; i < 4; i++)
            if (is(&key, counts[i])) which = i;
        if (which >= 0) {
            ONCE(1u << which);
            if (read_count(c, &line->tokens[which]) < 0) return -1; /* null: the Python way */
            if (which < 2) line->has_tokens[which] = 1;
        } else if (is(&key, "cache_creation")) {
            ONCE(16);
            if (read_creation(c, line) < 0) return -1;
        } else if (json_skip(c, 0) < 0) {
            return -1;
        }
    });
    return 0;
}

static int read_body(Cur *c, Line *line) {
    unsigned seen = 0;
    line->has_message = 1;
    OBJECT(c, {
        if (is(&key, "id")) {
            ONCE(1);
            if (string_or_null(c, &line->mid) < 0) return -1;
        } else if (is(&key, "model")) {
            ONCE(2);
            if (string_or_null(c, &line->model) < 0) return -1;
        } else if (is(&key, "usage")) {
            ONCE(4);
            if (c->p < c->end && *c->p == 'n') return -1; /* no usage: the Python way counts it */
            if (read_usage(c, line) < 0) return -1;
        } else if (is(&key, "content")) {
            ONCE(8);
            if (read_content(c, line) < 0) return -1;
        } else if (json_skip(c, 0) < 0) {
            return -1;
        }
    });
    return 0;
}

static int read_entry(Cur *c, Line *line) {
    unsigned seen = 0;
    OBJECT(c, {
        if (is(&key, "message")) {
            ONCE(1);
            if (read_body(c, line) < 0) return -1;
        } else if (is(&key, "timestamp")) {
            ONCE(2);
            if (string_or_null(c, &line->stamp) < 0) return -1;
        } else if (is(&key, "sessionId")) {
            ONCE(4);
            if (string_or_null(c, &line->session) < 0) return -1;
        } else if (is(&key, "requestId")) {
            ONCE(8);
            if (string_or_null(c, &line->rid) < 0) return -1;
        } else if (is(&key, "cwd")) {
            ONCE(16);
            if (string_or_null(c, &line->cwd) < 0) return -1;
        } else if (is(&key, "isSidechain")) {
            ONCE(32);
            if (c->p < c->end && *c->p == 't') {
                if (json_literal(c, "true") < 0) return -1;
                line->sidechain = 1;
            } else if (json_skip(c, 0) < 0) {
                return -1;
            }
        } else if (json_skip(c, 0) < 0) {
            return -1;
        }
    });
    return 0;
}

static int two(const unsigned char *p) {
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* 2026-10-01T12:34:56.789Z on a real day: its parts; -1 else */
static int read_stamp(const Str *s, int part[7]) {
    const unsigned char *p = s->p;
    if (s->n != 24 || s->escaped || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
        p[16] != ':' || p[19] != '.' || p[23] != 'Z')
        return -1;
    int hi = two(p), lo = two(p + 2), ms1 = two(p + 20), ms2 = p[22] - '0';
    if (hi < 0 || lo < 0 || ms1 < 0 || ms2 < 0 || ms2 > 9) return -1;
    part[0] = hi * 100 + lo;
    part[1] = two(p + 5);
    part[2] = two(p + 8);
    part[3] = two(p + 11);
    part[4] = two(p + 14);
    part[5] = two(p + 17);
    part[6] = ms1 * 10 + ms2;
    static const int days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = part[0], m = part[1], d = part[2];
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m]) return -1;
    if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return -1;
    if (part[3] < 0 || part[3] > 23 || part[4] < 0 || part[4] > 59 || part[5] < 0 || part[5] > 59)
        return -1;
    return 0;
}

/* Equal texts made one str (a file repeats its session, models, days and folder). */
typedef struct {
    const unsigned char *p[4];
    Py_ssize_t n[4];
    PyObject *text[4];
    int next;
} Texts;

static PyObject *text_of(Texts *t, const unsigned char *p, Py_ssize_t n) {
    for (int i = 0; i < 4; i++)
        if (t->text[i] != NULL && t->n[i] == n && memcmp(t->p[i], p, n) == 0) {
            Py_INCREF(t->text[i]);
            return t->text[i];
        }
    PyObject *text = PyUnicode_DecodeUTF8((const char *)p, n, "strict");
    if (text == NULL) return NULL;
    int i = t->next;
    t->next = (i + 1) % 4;
    Py_XDECREF(t->text[i]);
    t->p[i] = p;
    t->n[i] = n;
    t->text[i] = text;
    Py_INCREF(text);
    return text;
}

static void texts_clear(Texts *t) {
    for (int i = 0; i < 4; i++) Py_CLEAR(t->text[i]);
}

typedef struct {
    Texts session, model, day, cwd;
} Shared;

/* The line's message, or Py_None (not the usual shape: the Python way), or NULL (an error). */
static PyObject *message_of(const unsigned char *p, Py_ssize_t n, const Layout *type, Shared *sh,
                            PyObject *cwds) {
    Line line;
    memset(&line, 0, offsetof(Line, commands)); /* (the commands are set as they are read) */
    line.mid.n = line.rid.n = line.session.n = line.stamp.n = line.model.n = line.cwd.n = -1;
    Cur c = {p, p + n};
    json_ws(&c);
    if (read_entry(&c, &line) < 0) Py_RETURN_NONE;
    json_ws(&c);
    int part[7];
    if (c.p != c.end || !line.has_message || !line.has_usage || !line.has_tokens[0] ||
        !line.has_tokens[1] || line.mid.n < 0 || line.rid.n < 0 || line.session.n < 0 ||
        line.model.n < 0 || line.cwd.n < 0 || line.mid.escaped || line.rid.escaped ||
        line.session.escaped || line.model.escaped || line.cwd.escaped ||
        read_stamp(&line.stamp, part) < 0 ||
        (line.model.n == 11 && memcmp(line.model.p, "<synthetic>", 11) == 0))
        Py_RETURN_NONE;
    PyObject *key = NULL, *session = NULL, *moment = NULL, *model = NULL, *tokens = NULL;
    PyObject *commands = NULL, *day = NULL, *cwd = NULL, *found = NULL;
    char *joined = PyMem_Malloc(line.mid.n + line.rid.n + 1);
    if (joined == NULL) return PyErr_NoMemory();
    memcpy(joined, line.mid.p, line.mid.n);
    joined[line.mid.n] = ':';
    memcpy(joined + line.mid.n + 1, line.rid.p, line.rid.n);
    key = PyUnicode_DecodeUTF8(joined, line.mid.n + line.rid.n + 1, "strict");
    PyMem_Free(joined);
    if (key == NULL) goto done;
    if ((session = text_of(&sh->session, line.session.p, line.session.n)) == NULL) goto done;
    if ((model = text_of(&sh->model, line.model.p, line.model.n)) == NULL) goto done;
    if ((day = text_of(&sh->day, line.stamp.p, 10)) == NULL) goto done;
    if ((cwd = text_of(&sh->cwd, line.cwd.p, line.cwd.n)) == NULL) goto done;
    if (PySet_Add(cwds, cwd) < 0) goto done;
    moment = PyDateTimeAPI->DateTime_FromDateAndTime(part[0], part[1], part[2], part[3], part[4],
                                                     part[5], part[6] * 1000,
                                                     PyDateTime_TimeZone_UTC,
                                                     PyDateTimeAPI->DateTimeType);
    if (moment == NULL) goto done;
    if ((tokens = PyDict_New()) == NULL) goto done;
    PyObject *names[4] = {K_INPUT, K_OUTPUT, K_READ, K_WRITE};
    for (int i = 0; i < 4; i++) {
        PyObject *count = PyLong_FromLongLong(line.tokens[i] > 0 ? line.tokens[i] : 0);
        if (count == NULL || PyDict_SetItem(tokens, names[i], count) < 0) {
            Py_XDECREF(count);
            goto done;
        }
        Py_DECREF(count);
    }
    if (line.hour > 0) {
        PyObject *count = PyLong_FromLongLong(line.hour);
        if (count == NULL || PyDict_SetItem(tokens, K_HOUR, count) < 0) {
            Py_XDECREF(count);
            goto done;
        }
        Py_DECREF(count);
    }
    if ((commands = PyList_New(0)) == NULL) goto done;
    for (int i = 0; i < line.n_commands; i++) {
        const Str *s = &line.commands[i];
        if (!s->escaped && memmem(s->p, s->n, "bd", 2) == NULL) continue;
        PyObject *command = json_text(s);
        if (command == NULL) goto done;
        Py_ssize_t at = PyUnicode_Find(command, K_BD, 0, PY_SSIZE_T_MAX, 1);
        if (at == -2 || (at >= 0 && PyList_Append(commands, command) < 0)) {
            Py_DECREF(command);
            goto done;
        }
        Py_DECREF(command);
    }
    PyObject *args[9] = {key,      session,  moment, model, tokens,
                         line.sidechain ? Py_True : Py_False, commands, day, cwd};
    found = new_message(type, args);
done:
    Py_XDECREF(key);
    Py_XDECREF(session);
    Py_XDECREF(moment);
    Py_XDECREF(model);
    Py_XDECREF(tokens);
    Py_XDECREF(commands);
    Py_XDECREF(day);
    Py_XDECREF(cwd);
    return found;
}

static int blank(const unsigned char *p, Py_ssize_t n) {
    /* bytes.strip()'s whitespace only */
    for (Py_ssize_t i = 0; i < n; i++)
        if (!(p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\x0b' || p[i] == '\x0c'))
            return 0;
    return 1;
}

static PyObject *claude_read(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t first;
    PyObject *type;
    if (!PyArg_ParseTuple(args, "y*nO", &buf, &first, &type)) return NULL;
    Layout layout;
    layout_of(type, &layout);
    const unsigned char *data = buf.buf, *end = data + buf.len;
    Py_ssize_t lines = 0, not_usage = 0, too_long = 0, newlines = 0, number = first;
    Py_ssize_t declined = 0;
    Shared sh;
    memset(&sh, 0, sizeof(sh));
    PyObject *items = PyList_New(0), *cwds = PySet_New(NULL), *result = NULL;
    if (items == NULL || cwds == NULL) goto out;
    const unsigned char *p = data;
    for (;;) {
        const unsigned char *nl = memchr(p, '\n', end - p);
        if (nl == NULL) break;
        newlines++;
        number++;
        Py_ssize_t n = nl - p;
        const unsigned char *line = p;
        p = nl + 1;
        if (blank(line, n)) continue;
        lines++;
        if (n > MAX_LINE) {
            too_long++;
            continue;
        }
        if (memmem(line, n, "\"usage\"", 7) == NULL) {
            not_usage++;
            continue;
        }
        PyObject *item = message_of(line, n, &layout, &sh, cwds);
        if (item == Py_None) {
            Py_DECREF(item);
            declined++;
            item = Py_BuildValue("(ny#)", number, (const char *)line, n);
        }
        if (item == NULL) goto out;
        int failed = PyList_Append(items, item);
        Py_DECREF(item);
        if (failed < 0) goto out;
    }
    result = Py_BuildValue("(OnnnnnO)", items, lines, not_usage, too_long, newlines,
                           (Py_ssize_t)(p - data), declined ? Py_None : cwds);
out:
    layout_clear(&layout);
    Py_XDECREF(items);
    Py_XDECREF(cwds);
    texts_clear(&sh.session);
    texts_clear(&sh.model);
    texts_clear(&sh.day);
    texts_clear(&sh.cwd);
    PyBuffer_Release(&buf);
    return result;
}

static PyMethodDef claude_methods[] = {
    {"read", claude_read, METH_VARARGS, "Claude Code transcript lines read (see claude.c)."},
    {"dedupe", claude_dedupe, METH_VARARGS, "Copies of a message made one (see dedupe.c)."},
    {"price", claude_price, METH_VARARGS, "Messages of one rate card priced (see price.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef claude_module = {
    PyModuleDef_HEAD_INIT, "_claude",
    "The compiled reader of Claude Code transcript lines (see claude_code.py).", -1,
    claude_methods,
};

PyMODINIT_FUNC PyInit__claude(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    K_INPUT = PyUnicode_InternFromString("input");
    K_OUTPUT = PyUnicode_InternFromString("output");
    K_READ = PyUnicode_InternFromString("cache_read");
    K_WRITE = PyUnicode_InternFromString("cache_write");
    K_HOUR = PyUnicode_InternFromString("cache_write_1h");
    K_BD = PyUnicode_InternFromString("bd");
    if (!K_INPUT || !K_OUTPUT || !K_READ || !K_WRITE || !K_HOUR || !K_BD) return NULL;
    if (dedupe_init() < 0 || price_init() < 0) return NULL;
    return PyModule_Create(&claude_module);
}
