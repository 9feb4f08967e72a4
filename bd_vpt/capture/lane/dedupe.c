/* Copies of one message in one transcript made one, in C, as claude_code.scan_file() does
 * in Python (for a file whose every line the compiled reader took): the first copy is kept
 * and takes the commands of the others (each once, in order of first appearance); a larger
 * copy (more tokens, then not a sidechain) replaces it, with the commands gathered. */
#include "claude.h"

static uint32_t CRC[256]; /* CRC-32 (zlib's: reflected, polynomial 0xEDB88320) by byte */

static uint32_t crc32_of(const unsigned char *p, Py_ssize_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (Py_ssize_t i = 0; i < n; i++) crc = CRC[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static PyObject *S_KEY, *S_SESSION, *S_COMMANDS, *S_TOKENS, *S_SIDECHAIN, *S_CWD, *S_HOUR;

int dedupe_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        CRC[i] = c;
    }
    S_KEY = PyUnicode_InternFromString("key");
    S_SESSION = PyUnicode_InternFromString("session");
    S_COMMANDS = PyUnicode_InternFromString("commands");
    S_TOKENS = PyUnicode_InternFromString("tokens");
    S_SIDECHAIN = PyUnicode_InternFromString("sidechain");
    S_CWD = PyUnicode_InternFromString("cwd");
    S_HOUR = PyUnicode_InternFromString("cache_write_1h");
    return S_KEY && S_SESSION && S_COMMANDS && S_TOKENS && S_SIDECHAIN && S_CWD && S_HOUR ? 0
                                                                                        : -1;
}

/* Message.size: its tokens but the 1h cache writes (counted in cache_write already) */
static int size_of(PyObject *message, long long *out) {
    PyObject *tokens = PyObject_GetAttr(message, S_TOKENS);
    if (tokens == NULL) return -1;
    if (!PyDict_Check(tokens)) {
        Py_DECREF(tokens);
        PyErr_SetString(PyExc_TypeError, "tokens is not a dict");
        return -1;
    }
    Py_ssize_t pos = 0;
    PyObject *name, *value;
    long long total = 0;
    int failed = 0;
    while (PyDict_Next(tokens, &pos, &name, &value)) {
        long long n = PyLong_AsLongLong(value);
        if (n == -1 && PyErr_Occurred()) {
            failed = 1;
            break;
        }
        if (PyUnicode_Compare(name, S_HOUR) != 0) total += n;
    }
    Py_DECREF(tokens);
    *out = total;
    return failed ? -1 : 0;
}

static int truthy(PyObject *message, PyObject *name, int *out) {
    PyObject *value = PyObject_GetAttr(message, name);
    if (value == NULL) return -1;
    *out = value == Py_True;
    Py_DECREF(value);
    return 0;
}

static int merge(PyObject *held, PyObject *message, PyObject *key, PyObject *best) {
    PyObject *have = PyObject_GetAttr(held, S_COMMANDS), *more = NULL;
    int result = -1;
    if (have == NULL || (more = PyObject_GetAttr(message, S_COMMANDS)) == NULL) goto out;
    if (!PyList_Check(have) || !PyList_Check(more)) {
        PyErr_SetString(PyExc_TypeError, "commands is not a list");
        goto out;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(more); i++) {
        PyObject *command = PyList_GET_ITEM(more, i);
        int in = PySequence_Contains(have, command);
        if (in < 0 || (!in && PyList_Append(have, command) < 0)) goto out;
    }
    long long size, held_size;
    int side, held_side;
    if (size_of(message, &size) < 0 || size_of(held, &held_size) < 0) goto out;
    if (truthy(message, S_SIDECHAIN, &side) < 0 || truthy(held, S_SIDECHAIN, &held_side) < 0)
        goto out;
    if (size > held_size || (size == held_size && !side && held_side)) {
        if (PyObject_SetAttr(message, S_COMMANDS, have) < 0) goto out;
        if (PyDict_SetItem(best, key, message) < 0) goto out;
    }
    result = 0;
out:
    Py_XDECREF(have);
    Py_XDECREF(more);
    return result;
}

PyObject *claude_dedupe(PyObject *self, PyObject *args) {
    /* dedupe(messages, barred) -> (best: key -> message, duplicates, barred ones, sessions,
     * sums); barred: the cwds of other projects (a set), or None; sums: the CRC-32 of each
     * of best's keys (UTF-8), in order, as array("I") bytes (fileindex.key_sums) */
    PyObject *items, *barred;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &items, &barred)) return NULL;
    PyObject *best = PyDict_New(), *sessions = PySet_New(NULL), *sums = NULL, *result = NULL;
    Py_ssize_t duplicates = 0, other = 0;
    if (best == NULL || sessions == NULL) goto out;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *message = PyList_GET_ITEM(items, i);
        if (barred != Py_None) {
            PyObject *cwd = PyObject_GetAttr(message, S_CWD);
            if (cwd == NULL) goto out;
            int in = PySet_Contains(barred, cwd);
            Py_DECREF(cwd);
            if (in < 0) goto out;
            if (in) {
                other++;
                continue;
            }
        }
        PyObject *key = PyObject_GetAttr(message, S_KEY);
        if (key == NULL) goto out;
        PyObject *session = PyObject_GetAttr(message, S_SESSION);
        if (session == NULL || PySet_Add(sessions, session) < 0) {
            Py_XDECREF(session);
            Py_DECREF(key);
            goto out;
        }
        Py_DECREF(session);
        PyObject *held = PyDict_GetItemWithError(best, key); /* borrowed */
        int failed;
        if (held == NULL) {
            failed = PyErr_Occurred() || PyDict_SetItem(best, key, message) < 0;
        } else {
            duplicates++;
            Py_INCREF(held);
            failed = merge(held, message, key, best) < 0;
            Py_DECREF(held);
        }
        Py_DECREF(key);
        if (failed) goto out;
    }
    sums = PyBytes_FromStringAndSize(NULL, PyDict_GET_SIZE(best) * (Py_ssize_t)sizeof(uint32_t));
    if (sums == NULL) goto out;
    uint32_t *sum = (uint32_t *)PyBytes_AS_STRING(sums);
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(best, &pos, &key, &value)) {
        Py_ssize_t n;
        const char *text = PyUnicode_AsUTF8AndSize(key, &n);
        if (text == NULL) goto out;
        *sum++ = crc32_of((const unsigned char *)text, n);
    }
    result = Py_BuildValue("(OnnOO)", best, duplicates, other, sessions, sums);
out:
    Py_XDECREF(sums);
    Py_XDECREF(best);
    Py_XDECREF(sessions);
    return result;
}
