#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The MBIM card link end to end: modem_test with the modem's MBIM face.
FACE=mbim exec "$(dirname "$0")/modem_test" "$@"
