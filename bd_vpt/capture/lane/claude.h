/* The compiled reader of Claude Code transcript lines (claude.c says what it does): what its
 * JSON part (json.c) gives it. */
#ifndef BD_VPT_CLAUDE_H
#define BD_VPT_CLAUDE_H

#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE /* memmem */
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const unsigned char *p, *end;
} Cur;

/* A JSON string's raw text, between its quotes. */
typedef struct {
    const unsigned char *p;
    Py_ssize_t n; /* -1: absent or null */
    int escaped;  /* holds a backslash escape */
} Str;

/* JSON whitespace (a line holds no newline). */
static inline void json_ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r')) c->p++;
}

/* At open ('{' or '['): read past it and the space after; 1 when close follows (read past
 * too: an empty object or array), 0 when a member does, -1 when c is not at open. */
static inline int json_open(Cur *c, char open, char close) {
    if (c->p >= c->end || *c->p != open) return -1;
    c->p++;
    json_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 1;
    }
    return 0;
}

/* After a member's value: 1 at close (read past), 0 after a comma (and the space after it),
 * -1 at anything else. */
static inline int json_next(Cur *c, char close) {
    json_ws(c);
    if (c->p >= c->end) return -1;
    if (*c->p == close) {
        c->p++;
        return 1;
    }
    if (*c->p != ',') return -1;
    c->p++;
    json_ws(c);
    return 0;
}

/* Each gives 0 (read, and valid) or -1 (not valid JSON, or not read here: a number of more
 * than 18 digits, a lone surrogate escape, nesting past 64 levels; the line is declined). */
int json_string(Cur *c, Str *out);
int json_skip(Cur *c, int depth);
int json_int(Cur *c, int64_t *out);
int json_literal(Cur *c, const char *word);

/* The str a valid JSON string holds (escapes decoded); NULL with an exception set. */
PyObject *json_text(const Str *s);

/* dedupe.c: copies of a message made one (claude_code.scan_file's rule) */
int dedupe_init(void);
PyObject *claude_dedupe(PyObject *self, PyObject *args);

/* price.c: the messages of one rate card priced (RateCards.total's loop) */
int price_init(void);
PyObject *claude_price(PyObject *self, PyObject *args);

/* message.c: transcripts.Message made field by field (its slots), else by calling it */
#define MESSAGE_FIELDS 11
typedef struct {
    PyObject *type;
    int slots; /* laid out as slots: offsets hold where each field goes */
    Py_ssize_t offsets[MESSAGE_FIELDS];
    PyObject *parent, *cost; /* the defaults of the last two fields (owned) */
} Layout;
void layout_of(PyObject *type, Layout *layout);
void layout_clear(Layout *layout);
PyObject *new_message(const Layout *layout, PyObject *const values[9]);

#endif
