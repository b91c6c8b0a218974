// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: configuration. The file holds the options' words, one per line:
 *
 *   # the card's web server, as a unix socket
 *   link 4116=unix:/run/sctls/card.sock
 *   allow-uid 1000,1001
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int config_add_link(struct config *cfg, const char *text, char *err, size_t errlen)
{
	struct link link;

	if (link_parse(&link, text, err, errlen))
		return -1;
	if (config_link_for(cfg, link.port)) {
		snprintf(err, errlen, "port %u has two links", link.port);
		return -1;
	}
	if (cfg->nr_links == CONFIG_MAX_LINKS) {
		snprintf(err, errlen, "more than %d links", CONFIG_MAX_LINKS);
		return -1;
	}
	cfg->links[cfg->nr_links++] = link;
	return 0;
}

int config_add_uids(struct config *cfg, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	while (*p) {
		char *end;
		unsigned long uid;

		errno = 0;
		uid = strtoul(p, &end, 10);
		if (end == p || errno || uid > 0xfffffffeUL || (*end && *end != ',')) {
			snprintf(err, errlen, "'%s': expected uids like 1000,1001", list);
			return -1;
		}
		if (cfg->nr_allow_uids == CONFIG_MAX_UIDS) {
			snprintf(err, errlen, "more than %d allowed uids", CONFIG_MAX_UIDS);
			return -1;
		}
		cfg->allow_uids[cfg->nr_allow_uids++] = uid;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char line[1024], why[512];
	unsigned int lineno = 0;
	int ret = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *word, *value;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "line too long");
			ret = -1;
			break;
		}
		if (hash)
			*hash = '\0';
		word = trim(line);
		if (!*word)
			continue;
		value = word + strcspn(word, " \t");
		if (*value)
			*value++ = '\0';
		value = trim(value);
		if (!strcmp(word, "link"))
			ret = config_add_link(cfg, value, why, sizeof(why));
		else if (!strcmp(word, "allow-uid"))
			ret = config_add_uids(cfg, value, why, sizeof(why));
		else {
			snprintf(why, sizeof(why), "unknown setting '%s' (known: link, allow-uid)", word);
			ret = -1;
		}
	}
	if (ret)
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
	fclose(f);
	return ret;
}

const struct link *config_link_for(const struct config *cfg, uint16_t port)
{
	size_t i;

	for (i = 0; i < cfg->nr_links; i++)
		if (cfg->links[i].port == port)
			return &cfg->links[i];
	return NULL;
}

bool config_uid_allowed(const struct config *cfg, uint32_t uid)
{
	size_t i;

	if (!cfg->nr_allow_uids)
		return true;
	for (i = 0; i < cfg->nr_allow_uids; i++)
		if (cfg->allow_uids[i] == uid)
			return true;
	return false;
}
