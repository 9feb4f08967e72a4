/* Reading the JSON texts of a line in bd-vpt's own shape: strings of printable ASCII without
 * escapes, plain integers, amounts, object keys, ULIDs and UTC millisecond stamps. A reader
 * gives 0 (read) or -1 (not in that shape: the line is left to the Python lane). */
#include "lane.h"

unsigned char PLAIN[256];

static void plain_init(void) {
    for (int ch = 0x20; ch < 0x7f; ch++) PLAIN[ch] = ch != '"' && ch != '\\';
}

static const double POWERS[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int read_amount(Cur *c, double *out) {
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

void keys_init(Keys *keys, const char *const *names, int count) {
    keys->names = names;
    keys->count = count;
    for (int i = 0; i < count; i++) keys->lens[i] = strlen(names[i]);
    for (int i = 0; i <= count; i++) keys->after[i] = i < count ? i + 1 : 0;
    memset(keys->quoted, 0, sizeof(keys->quoted));
    memset(keys->mask, 0, sizeof(keys->mask));
    for (int i = 0; i < count; i++) {
        char quoted[16] = {0}, mask[16] = {0};
        size_t n = keys->lens[i];
        if (n > 13) continue; /* read_key compares it byte by byte */
        quoted[0] = '"';
        memcpy(quoted + 1, names[i], n);
        quoted[n + 1] = '"';
        quoted[n + 2] = ':';
        memset(mask, 0xff, n + 3);
        memcpy(keys->quoted[i], quoted, 16);
        memcpy(keys->mask[i], mask, 16);
    }
}

static inline int equal(const char *a, const char *b, size_t n) {
    /* short texts: no call */
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

int read_key_slow(Cur *c, Keys *keys, int prev) {
    /* read_key's way when the guess is not a short key with 16 bytes to compare */
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
    return UNKNOWN_KEY; /* read, with its colon: the caller skips its value or leaves */
}

static int skip_number(Cur *c) {
    /* the JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *q = c->p, *end = c->end;
    if (q < end && *q == '-') q++;
    if (q < end && *q == '0') {
        q++;
    } else if (q < end && *q >= '1' && *q <= '9') {
        while (q < end && *q >= '0' && *q <= '9') q++;
    } else {
        return -1;
    }
    if (q < end && *q == '.') {
        const char *digits = ++q;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == digits) return -1;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-')) q++;
        const char *digits = q;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == digits) return -1;
    }
    c->p = q;
    return 0;
}

static int literal(Cur *c, const char *word, size_t n) {
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return -1;
    c->p += n;
    return 0;
}

int skip_value(Cur *c, int depth) {
    /* Past one JSON value in the shape the lane reads (compact, strings of printable ASCII
     * without escapes, nested at most 32 deep): the value of a key the record does not
     * define, which the Python lane's struct reads past too. */
    Span text;
    if (c->p >= c->end || depth > 32) return -1;
    switch (*c->p) {
    case '"':
        return read_string(c, &text);
    case 't':
        return literal(c, "true", 4);
    case 'f':
        return literal(c, "false", 5);
    case 'n':
        return literal(c, "null", 4);
    case '[':
        c->p++;
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return 0;
        }
        for (;;) {
            int after = skip_value(c, depth + 1) < 0 ? -1 : after_member(c, ']');
            if (after != 0) return after < 0 ? -1 : 0;
        }
    case '{':
        c->p++;
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return 0;
        }
        for (;;) {
            if (read_string(c, &text) < 0 || c->p >= c->end || *c->p++ != ':') return -1;
            int after = skip_value(c, depth + 1) < 0 ? -1 : after_member(c, '}');
            if (after != 0) return after < 0 ? -1 : 0;
        }
    default:
        return skip_number(c);
    }
}

signed char ULID_DIGIT[256]; /* no I, L, O, U */

static void ulid_init(void) {
    memset(ULID_DIGIT, -1, sizeof(ULID_DIGIT));
    for (int ch = '0'; ch <= '9'; ch++) ULID_DIGIT[ch] = (signed char)(ch - '0');
    for (int ch = 'A'; ch <= 'Z'; ch++)
        if (ch != 'I' && ch != 'L' && ch != 'O' && ch != 'U')
            ULID_DIGIT[ch] = (signed char)(ch - 'A' + 10);
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

int is_stamp(Span s) {
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

int64_t stamp_micros(Span s) {
    /* a checked stamp (is_stamp) as microseconds since 1970-01-01T00:00:00Z */
    int y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0, ms = 0; /* (all set: it is checked) */
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

const char *trim_end(const char *p, const char *end) {
    /* the end of a line's text without the JSON whitespace after it (a CRLF file's \r) */
    while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) end--;
    return end;
}

int is_blank(const char *p, const char *end) {
    /* bytes.isspace() of a line, or an empty line */
    for (; p < end; p++) {
        char ch = *p;
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\v' && ch != '\f') return 0;
    }
    return 1;
}

void text_init(void) {
    plain_init();
    ulid_init();
}
