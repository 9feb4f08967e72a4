/* The messages of one rate card priced and summed in C, exactly as RateCards.total() does it
 * in Python for each message its card prices (economics/pricing.py): the same IEEE products
 * and sums in the same order, each message's price rounded by Python's own round(x, 10).
 * A message the card does not price alone (a tier starts below its input, a kind the card
 * has no rate for), or whose counts are not plain ints below 2^53, stops the run: the caller
 * prices it the Python way and goes on. */
#include "claude.h"

static PyObject *P_INPUT, *P_OUTPUT, *P_READ, *P_WRITE, *P_HOUR, *P_ROUND, *P_TEN;

int price_init(void) {
    P_INPUT = PyUnicode_InternFromString("input");
    P_OUTPUT = PyUnicode_InternFromString("output");
    P_READ = PyUnicode_InternFromString("cache_read");
    P_WRITE = PyUnicode_InternFromString("cache_write");
    P_HOUR = PyUnicode_InternFromString("cache_write_1h");
    P_ROUND = PyUnicode_InternFromString("__round__");
    P_TEN = PyLong_FromLong(10);
    return P_INPUT && P_OUTPUT && P_READ && P_WRITE && P_HOUR && P_ROUND && P_TEN ? 0 : -1;
}

#define EXACT (1LL << 53) /* below this, an int is the same as a double */

/* used.get(name, 0) as a plain int below 2^53: 0 read, 1 not so (stop), -1 an error */
static int count(PyObject *used, PyObject *name, long long *out) {
    PyObject *value = PyDict_GetItemWithError(used, name);
    if (value == NULL) {
        *out = 0;
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyLong_CheckExact(value)) return 1;
    int overflow;
    long long n = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (n == -1 && PyErr_Occurred()) return -1;
    if (overflow || n >= EXACT || n <= -EXACT) return 1;
    *out = n;
    return 0;
}

PyObject *claude_price(PyObject *self, PyObject *args) {
    /* price(tokens, i, r_in, r_out, read_rate, write_rate, hour_rate, start, has_read,
     * has_write, has_hour, cost) -> (cost, j): tokens[i:j] priced and added to cost (None
     * stays None), j the first message not priced here (or len(tokens)) */
    PyObject *tokens, *cost;
    Py_ssize_t i;
    double r_in, r_out, read_rate, write_rate, hour_rate, start;
    int has_read, has_write, has_hour;
    if (!PyArg_ParseTuple(args, "O!nddddddpppO", &PyList_Type, &tokens, &i, &r_in, &r_out,
                          &read_rate, &write_rate, &hour_rate, &start, &has_read, &has_write,
                          &has_hour, &cost))
        return NULL;
    int unpriced = cost == Py_None;
    double total = unpriced ? 0.0 : PyFloat_AsDouble(cost);
    if (!unpriced && total == -1.0 && PyErr_Occurred()) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(tokens);
    for (; i < n; i++) {
        PyObject *used = PyList_GET_ITEM(tokens, i);
        if (!PyDict_CheckExact(used)) break;
        long long inp, out, read, write, hour;
        int got = count(used, P_INPUT, &inp);
        if (!got) got = count(used, P_OUTPUT, &out);
        if (!got) got = count(used, P_READ, &read);
        if (!got) got = count(used, P_WRITE, &write);
        if (!got) got = count(used, P_HOUR, &hour);
        if (got < 0) return NULL;
        if (got) break;
        long long held = inp + read + write; /* (below 3 * 2^53: no overflow) */
        if (held >= EXACT || held <= -EXACT || !((double)held < start)) break;
        if ((!has_read && read) || (!has_write && write != hour) || (!has_hour && hour)) break;
        /* one = inp * r_in + out * r_out + read * read_rate
         * one += (write - hour) * write_rate + hour * hour_rate   (each step rounded) */
        volatile double a = (double)inp * r_in;
        volatile double b = (double)out * r_out;
        volatile double one = a + b;
        volatile double c = (double)read * read_rate;
        one = one + c;
        volatile double d = (double)(write - hour) * write_rate;
        volatile double e = (double)hour * hour_rate;
        volatile double more = d + e;
        one = one + more;
        PyObject *x = PyFloat_FromDouble(one / 1e6);
        if (x == NULL) return NULL;
        PyObject *rounded = PyObject_CallMethodOneArg(x, P_ROUND, P_TEN);
        Py_DECREF(x);
        if (rounded == NULL) return NULL;
        double priced = PyFloat_AsDouble(rounded);
        Py_DECREF(rounded);
        if (priced == -1.0 && PyErr_Occurred()) return NULL;
        if (!unpriced) total = total + priced;
    }
    if (unpriced) return Py_BuildValue("(On)", Py_None, i);
    return Py_BuildValue("(dn)", total, i);
}
