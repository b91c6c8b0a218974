/* SPDX-License-Identifier: GPL-2.0 */
/* cardsim: the card in a vsmartcard virtual reader (vpcd, for pcscd). */
#ifndef CARDSIM_VPCD_H
#define CARDSIM_VPCD_H

#include "uicc.h"

/*
 * Connect to vpcd at HOST:PORT and be its card until vpcd hangs up, tracing
 * each APDU if asked. 0 when it did, or -1 having said why in err.
 */
int vpcd_run(const char *host_port, struct uicc *u, bool tracing, char *err, size_t errlen);

#endif
