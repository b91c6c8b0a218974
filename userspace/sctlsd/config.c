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
#include <sys/stat.h>

#include "config.h"

int config_add_link(struct config *cfg, const char *text, char *err, size_t errlen)
{
	struct link link = { 0 };

	if (cfg->specs_only)
		snprintf(link.spec, sizeof(link.spec), "%s", text);
	else if (link_parse(&link, text, err, errlen))
		return -1;
	if (!cfg->specs_only && config_link_for(cfg, link.port)) {
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

	/* An unset variable must not open the gateway to everyone. */
	if (!*p) {
		snprintf(err, errlen, "an empty uid list allows no one: name uids, or leave it out to allow everyone");
		return -1;
	}
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
	char *line = NULL, why[512] = "";
	unsigned int lineno = 0;
	size_t cap = 0;
	ssize_t len;
	struct stat st;
	int ret = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return -1;
	}
	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		char *hash, *word, *value;

		lineno++;
		if (memchr(line, '\0', len)) {
			snprintf(why, sizeof(why), "binary data: not a configuration file");
			ret = -1;
			break;
		}
		if (len > CONFIG_MAX_LINE) {
			snprintf(why, sizeof(why), "line longer than %d bytes", CONFIG_MAX_LINE);
			ret = -1;
			break;
		}
		hash = strchr(line, '#');
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
			snprintf(why, sizeof(why), "unknown setting '%.64s' (known: link, allow-uid)", word);
			ret = -1;
		}
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -2;
	}
	if (ret == -1)
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
	free(line);
	fclose(f);
	return ret ? -1 : 0;
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

bool config_same_links(const struct config *a, const struct config *b)
{
	size_t i;

	if (a->nr_links != b->nr_links)
		return false;
	for (i = 0; i < a->nr_links; i++)
		if (strcmp(a->links[i].spec, b->links[i].spec))
			return false;
	return true;
}
