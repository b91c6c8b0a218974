// SPDX-License-Identifier: GPL-2.0
#include <grp.h>
#include <sys/capability.h>
#include <unistd.h>

#include "privs.h"

int become(uid_t uid, gid_t gid)
{
	return setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	       setresuid(uid, uid, uid) ? -1 : 0;
}

int set_net_admin(bool on)
{
	cap_value_t net_admin = CAP_NET_ADMIN;
	cap_t caps = cap_get_proc();
	int ret;

	if (!caps)
		return -1;
	ret = cap_set_flag(caps, CAP_EFFECTIVE, 1, &net_admin, on ? CAP_SET : CAP_CLEAR);
	if (!ret)
		ret = cap_set_proc(caps);
	cap_free(caps);
	return ret;
}
