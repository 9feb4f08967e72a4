/* Messages (transcripts.Message, a dataclass with __slots__) made without running its
 * __init__: each field stored at its slot, as __init__ stores it (parent "" and reported_cost
 * None, its defaults; __post_init__ only fills an empty day, and the reader's day is never
 * empty). Where the class is not laid out so (a field that is not a slot), the class is
 * called instead. tests/test_claude_reader.py compares every field with the Python reader's. */
#include "claude.h"

#include <structmember.h>

static const char *const FIELDS[MESSAGE_FIELDS] = {
    "key", "session", "moment", "model", "tokens", "sidechain",
    "commands", "day", "cwd", "parent", "reported_cost",
};

static PyObject *EMPTY;

void layout_of(PyObject *type, Layout *layout) {
    layout->type = type;
    layout->slots = 0;
    if (!PyType_Check(type)) return;
    PyTypeObject *t = (PyTypeObject *)type;
    if (t->tp_dictoffset != 0 || t->tp_alloc == NULL) return; /* (a __dict__: not slots) */
    if (EMPTY == NULL && (EMPTY = PyUnicode_FromString("")) == NULL) {
        PyErr_Clear();
        return;
    }
    for (int i = 0; i < MESSAGE_FIELDS; i++) {
        PyObject *descr = PyDict_GetItemString(t->tp_dict, FIELDS[i]); /* borrowed */
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) return;
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY)) return;
        layout->offsets[i] = member->offset;
    }
    layout->slots = 1;
}

PyObject *new_message(const Layout *layout, PyObject *const values[9]) {
    if (!layout->slots) return PyObject_Vectorcall(layout->type, values, 9, NULL);
    PyTypeObject *t = (PyTypeObject *)layout->type;
    PyObject *message = t->tp_alloc(t, 0);
    if (message == NULL) return NULL;
    for (int i = 0; i < MESSAGE_FIELDS; i++) {
        PyObject *value = i < 9 ? values[i] : i == 9 ? EMPTY : Py_None;
        Py_INCREF(value);
        *(PyObject **)((char *)message + layout->offsets[i]) = value;
    }
    return message;
}
