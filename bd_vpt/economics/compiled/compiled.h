/* The compiled parts of economics/ (module.c says what each does). */
#ifndef BD_VPT_COMPILED_H
#define BD_VPT_COMPILED_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* story.c */
int story_init(void);
PyObject *states(PyObject *self, PyObject *args);

/* collect.c */
PyObject *collect(PyObject *self, PyObject *args);

#endif
