/* Messages (transcripts.Message, a dataclass with __slots__) made without running its
 * __init__: each field stored at its slot, as __init__ stores it (parent and reported_cost
 * take the class's own defaults; __post_init__ only fills an empty day, and the reader's day
 * is never empty). Where the class is not laid out so (other fields, or in another order, a
 * field that is not a slot, other defaults), the class is called instead. tests/test_claude_reader.py compares every field with the Python reader's. */
#include "claude.h"

#include <structmember.h>

static const char *const FIELDS[MESSAGE_FIELDS] = {
    "key", "session", "moment", "model", "tokens", "sidechain",
    "commands", "day", "cwd", "parent", "reported_cost",
};

/* the default a field of the dataclass has (a new reference), or NULL (none, or an error) */
static PyObject *default_of(PyObject *fields, const char *name) {
    PyObject *field = PyDict_GetItemString(fields, name); /* borrowed */
    if (field == NULL) return NULL;
    PyObject *value = PyObject_GetAttrString(field, "default");
    if (value == NULL) PyErr_Clear();
    return value;
}

void layout_of(PyObject *type, Layout *layout) {
    layout->type = type;
    layout->slots = 0;
    layout->parent = layout->cost = NULL;
    if (!PyType_Check(type)) return;
    PyTypeObject *t = (PyTypeObject *)type;
    if (t->tp_dictoffset != 0 || t->tp_alloc == NULL) return; /* (a __dict__: not slots) */
    /* exactly these fields, in this order; the last two with the defaults the reader leaves */
    PyObject *fields = PyDict_GetItemString(t->tp_dict, "__dataclass_fields__"); /* borrowed */
    if (fields == NULL || !PyDict_CheckExact(fields) || PyDict_GET_SIZE(fields) != MESSAGE_FIELDS)
        return;
    Py_ssize_t pos = 0;
    PyObject *name, *value;
    for (int i = 0; PyDict_Next(fields, &pos, &name, &value); i++)
        if (!PyUnicode_Check(name) || PyUnicode_CompareWithASCIIString(name, FIELDS[i]) != 0)
            return;
    layout->parent = default_of(fields, "parent");
    layout->cost = default_of(fields, "reported_cost");
    if (layout->parent == NULL || !PyUnicode_CheckExact(layout->parent) ||
        layout->cost != Py_None)
        return;
    for (int i = 0; i < MESSAGE_FIELDS; i++) {
        PyObject *descr = PyDict_GetItemString(t->tp_dict, FIELDS[i]); /* borrowed */
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) return;
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY)) return;
        layout->offsets[i] = member->offset;
    }
    layout->slots = 1;
}

void layout_clear(Layout *layout) {
    Py_CLEAR(layout->parent);
    Py_CLEAR(layout->cost);
}

PyObject *new_message(const Layout *layout, PyObject *const values[9]) {
    if (!layout->slots) return PyObject_Vectorcall(layout->type, values, 9, NULL);
    PyTypeObject *t = (PyTypeObject *)layout->type;
    PyObject *message = t->tp_alloc(t, 0);
    if (message == NULL) return NULL;
    for (int i = 0; i < MESSAGE_FIELDS; i++) {
        PyObject *value = i < 9 ? values[i] : i == 9 ? layout->parent : layout->cost;
        Py_INCREF(value);
        *(PyObject **)((char *)message + layout->offsets[i]) = value;
    }
    return message;
}
