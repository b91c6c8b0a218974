/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kselftest harness, with a longer bound per test. The harness kills
 * a test after 30 s; under KASAN and lockdep in an emulated guest, creating
 * and tearing down a few network namespaces alone takes that long. The
 * bound is only a backstop against a hang: every wait in the tests is
 * bounded on its own.
 */
#ifndef SCTLS_SELFTEST_HARNESS_H
#define SCTLS_SELFTEST_HARNESS_H

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#endif
