/* JSON text for the Claude Code reader: strings (escapes and UTF-8 checked as msgspec and
 * Python's strict UTF-8 decoder check them), numbers, literals and whole values read past,
 * each checked. Anything this part does not read gives -1 and the line goes the Python way,
 * which judges it: this part only has to be right about what it accepts. */
#include "claude.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static unsigned char PLAIN[256]; /* in a string, read on: ASCII but controls, quote, backslash */
static int plain_ready;

static void plain_init(void) {
    for (int ch = 0x20; ch < 0x80; ch++) PLAIN[ch] = ch != '"' && ch != '\\';
    plain_ready = 1;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    if (end - p < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9') v |= ch - '0';
        else if (ch >= 'a' && ch <= 'f') v |= ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F') v |= ch - 'A' + 10;
        else return -1;
    }
    *out = v;
    return 0;
}

static int utf8_seq(const unsigned char *p, const unsigned char *end) {
    /* the length of the well-formed UTF-8 sequence at p (no surrogates, no overlong forms,
     * nothing past U+10FFFF: what bytes.decode() accepts), or -1 */
    unsigned b = p[0], lo = 0x80, hi = 0xBF;
    int n;
    if (b < 0xC2) return -1;
    if (b < 0xE0) n = 2;
    else if (b < 0xF0) {
        n = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b < 0xF5) {
        n = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else return -1;
    if (end - p < n) return -1;
    if (p[1] < lo || p[1] > hi) return -1;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return -1;
    return n;
}

static int escape_len(const unsigned char *p, const unsigned char *end, unsigned *cp) {
    /* p at a backslash: the escape's length in bytes and (for \u) the code point it names;
     * a surrogate pair is one escape of 12 bytes; a lone surrogate is declined */
    if (end - p < 2) return -1;
    switch (p[1]) {
    case '"': *cp = '"'; return 2;
    case '\\': *cp = '\\'; return 2;
    case '/': *cp = '/'; return 2;
    case 'b': *cp = '\b'; return 2;
    case 'f': *cp = '\f'; return 2;
    case 'n': *cp = '\n'; return 2;
    case 'r': *cp = '\r'; return 2;
    case 't': *cp = '\t'; return 2;
    case 'u': {
        unsigned high, low;
        if (hex4(p + 2, end, &high) < 0) return -1;
        if (high >= 0xDC00 && high <= 0xDFFF) return -1;
        if (high < 0xD800 || high > 0xDBFF) {
            *cp = high;
            return 6;
        }
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, end, &low) < 0) return -1;
        if (low < 0xDC00 || low > 0xDFFF) return -1;
        *cp = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        return 12;
    }
    default: return -1;
    }
}

int json_string(Cur *c, Str *out) {
    if (!plain_ready) plain_init();
    const unsigned char *p = c->p, *end = c->end;
    if (p >= end || *p != '"') return -1;
    const unsigned char *start = ++p;
    int escaped = 0;
    for (;;) {
#ifdef __SSE2__
        /* 16 bytes at a time up to the first quote, backslash, control or non-ASCII byte
         * (as a signed byte each of these last two is below 0x20) */
        const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
        const __m128i low = _mm_set1_epi8(0x20);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash)),
                                       _mm_cmplt_epi8(v, low));
            int mask = _mm_movemask_epi8(hit);
            if (mask) {
                p += __builtin_ctz((unsigned)mask);
                break;
            }
            p += 16;
        }
#endif
        while (p < end && PLAIN[*p]) p++;
        if (p >= end) return -1;
        unsigned char b = *p;
        if (b == '"') break;
        if (b == '\\') {
            unsigned cp;
            int n = escape_len(p, end, &cp);
            if (n < 0) return -1;
            escaped = 1;
            p += n;
        } else if (b >= 0x80) {
            int n = utf8_seq(p, end);
            if (n < 0) return -1;
            p += n;
        } else {
            return -1; /* a control character */
        }
    }
    out->p = start;
    out->n = p - start;
    out->escaped = escaped;
    c->p = p + 1;
    return 0;
}

int json_literal(Cur *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return -1;
    c->p += n;
    return 0;
}

static int digits(Cur *c, int most) {
    /* at least one digit, at most `most` */
    const unsigned char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
    Py_ssize_t n = c->p - start;
    return n >= 1 && n <= most ? 0 : -1;
}

static int json_number(Cur *c) {
    if (c->p < c->end && *c->p == '-') c->p++;
    if (c->p >= c->end) return -1;
    if (*c->p == '0') {
        c->p++;
    } else if (*c->p >= '1' && *c->p <= '9') {
        if (digits(c, 18) < 0) return -1;
    } else {
        return -1;
    }
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (digits(c, 40) < 0) return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
        if (digits(c, 3) < 0) return -1;
    }
    return 0;
}

int json_int(Cur *c, int64_t *out) {
    /* a JSON integer (no fraction, no exponent) of at most 18 digits */
    int negative = 0;
    if (c->p < c->end && *c->p == '-') {
        negative = 1;
        c->p++;
    }
    const unsigned char *start = c->p;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
    if (*c->p == '0') {
        c->p++;
    } else if (digits(c, 18) < 0) {
        return -1;
    }
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')) return -1;
    int64_t v = 0;
    for (const unsigned char *q = start; q < c->p; q++) v = v * 10 + (*q - '0');
    *out = negative ? -v : v;
    return 0;
}

int json_skip(Cur *c, int depth) {
    if (depth > 64 || c->p >= c->end) return -1;
    Str s;
    switch (*c->p) {
    case '"': return json_string(c, &s);
    case 't': return json_literal(c, "true");
    case 'f': return json_literal(c, "false");
    case 'n': return json_literal(c, "null");
    case '{':
        if (json_open(c, '{', '}')) return 0; /* (an empty object) */
        for (;;) {
            if (json_string(c, &s) < 0) return -1;
            json_ws(c);
            if (c->p >= c->end || *c->p != ':') return -1;
            c->p++;
            json_ws(c);
            if (json_skip(c, depth + 1) < 0) return -1;
            int closed = json_next(c, '}');
            if (closed) return closed < 0 ? -1 : 0;
        }
    case '[':
        if (json_open(c, '[', ']')) return 0; /* (an empty array) */
        for (;;) {
            if (json_skip(c, depth + 1) < 0) return -1;
            int closed = json_next(c, ']');
            if (closed) return closed < 0 ? -1 : 0;
        }
    default: return json_number(c);
    }
}

PyObject *json_text(const Str *s) {
    if (!s->escaped) return PyUnicode_DecodeUTF8((const char *)s->p, s->n, "strict");
    /* escapes decoded to UTF-8 (never longer than their text), then read as UTF-8 */
    char *buf = PyMem_Malloc(s->n ? s->n : 1);
    if (buf == NULL) return PyErr_NoMemory();
    Py_ssize_t n = 0;
    const unsigned char *p = s->p, *end = s->p + s->n;
    while (p < end) {
        if (*p != '\\') {
            buf[n++] = (char)*p++;
            continue;
        }
        unsigned cp;
        int len = escape_len(p, end, &cp);
        if (len < 0) { /* json_string() checked every escape */
            PyMem_Free(buf);
            PyErr_SetString(PyExc_ValueError, "a bad escape");
            return NULL;
        }
        p += len;
        if (cp < 0x80) {
            buf[n++] = (char)cp;
        } else if (cp < 0x800) {
            buf[n++] = (char)(0xC0 | (cp >> 6));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf[n++] = (char)(0xE0 | (cp >> 12));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            buf[n++] = (char)(0xF0 | (cp >> 18));
            buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    PyObject *text = PyUnicode_DecodeUTF8(buf, n, "strict");
    PyMem_Free(buf);
    return text;
}
