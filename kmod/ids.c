// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: user and group ids as a user namespace sees them.
 *
 * make_kuid() and from_kuid_munged() are not on the symbol lists of
 * Android's GKI kernels, where a vendor module may link against nothing
 * else (kmod/symbols.allow). A namespace's map is public, though, and
 * written once: map_write() publishes its extents before their count
 * (smp_wmb), and never changes them after. These walk it the way the
 * kernel's own map_id_down() and map_id_up() do, minus the binary search
 * the kernel uses beyond five extents (a map has at most 340). An unmapped
 * id reads as the default overflow id, not the kernel.overflowuid sysctl.
 */
#include <linux/highuid.h>
#include <linux/user_namespace.h>

#include "internal.h"

/* The extent of @map whose @from range holds @id, or NULL. */
static const struct uid_gid_extent *
sctls_map_find(const struct uid_gid_map *map, u32 id, bool down)
{
	const struct uid_gid_extent *extents;
	u32 i, nr = READ_ONCE(map->nr_extents);

	smp_rmb();	/* the extents were written before their count */
	extents = nr <= UID_GID_MAP_MAX_BASE_EXTENTS ? map->extent :
		  map->forward;
	for (i = 0; i < nr; i++) {
		u32 first = down ? extents[i].first : extents[i].lower_first;

		if (id >= first && id - first < extents[i].count)
			return &extents[i];
	}
	return NULL;
}

/* make_kuid(): @uid of @ns as a kernel uid, INVALID_UID if unmapped. */
kuid_t sctls_make_kuid(struct user_namespace *ns, uid_t uid)
{
	const struct uid_gid_extent *e = sctls_map_find(&ns->uid_map, uid, true);

	return KUIDT_INIT(e ? uid - e->first + e->lower_first : (uid_t)-1);
}

static u32 sctls_map_up(const struct uid_gid_map *map, u32 id, u32 overflow)
{
	const struct uid_gid_extent *e = sctls_map_find(map, id, false);

	return e ? id - e->lower_first + e->first : overflow;
}

/* from_kuid_munged(): @kuid as @ns sees it. */
uid_t sctls_from_kuid(struct user_namespace *ns, kuid_t kuid)
{
	return sctls_map_up(&ns->uid_map, __kuid_val(kuid), DEFAULT_OVERFLOWUID);
}

/* from_kgid_munged(): @kgid as @ns sees it. */
gid_t sctls_from_kgid(struct user_namespace *ns, kgid_t kgid)
{
	return sctls_map_up(&ns->gid_map, __kgid_val(kgid), DEFAULT_OVERFLOWGID);
}
