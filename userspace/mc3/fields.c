// SPDX-License-Identifier: MIT
/* The MC-3-RESOLVE_ICI field table and each field's rule. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "swar.h"

const char *const mc3_field_names[NR_FIELDS] = {
	[F_TID] = "tid", [F_ICI] = "ici", [F_USER] = "user",
	[F_APIKEYID] = "apikeyid", [F_TS] = "ts", [F_LANGUAGE] = "language",
	[F_CC] = "cc", [F_POST] = "post", [F_AGE] = "age", [F_INCOME] = "income",
	[F_GENDER] = "gender", [F_COUNT] = "count", [F_ADDR] = "addr",
	[F_SIGNATURE] = "signature",
};

/* ISO 639-1 alpha-2 language codes. */
static const char iso639_1[] =
	"aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr "
	"cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu "
	"gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk "
	"kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms "
	"mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro "
	"ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl "
	"tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/* ISO 3166-1 alpha-2 country codes, officially assigned. */
static const char iso3166_1[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM "
	"BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX "
	"CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG "
	"GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR "
	"IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV "
	"LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE "
	"NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO "
	"RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
	"TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF "
	"WS YE YT ZA ZM ZW";

int mc3_field_lookup(const char *name, size_t len)
{
	size_t i;
	int f;

	/* By length first: most names are told apart by it and one letter. */
	switch (len) {
	case 2: f = name[0] == 't' ? F_TS : F_CC; break;
	case 3: f = name[0] == 't' ? F_TID : name[0] == 'i' ? F_ICI : F_AGE; break;
	case 4: f = name[0] == 'u' ? F_USER : name[0] == 'p' ? F_POST : F_ADDR; break;
	case 5: f = F_COUNT; break;
	case 6: f = name[0] == 'i' ? F_INCOME : F_GENDER; break;
	case 8: f = name[0] == 'a' ? F_APIKEYID : F_LANGUAGE; break;
	case 9: f = F_SIGNATURE; break;
	default: return -1;
	}
	/* Inline: a call to memcmp costs more than these few octets. */
	for (i = 0; i < len; i++)
		if (mc3_field_names[f][i] != name[i])
			return -1;
	return f;
}

/* Two letters, in that case, found in a sorted list of "xx " codes. */
static bool in_code_list(const char *list, size_t list_len, const char *v, size_t len,
			 bool upper)
{
	size_t lo = 0, hi = (list_len + 1) / 3, i;
	char code[2];

	if (len != 2)
		return false;
	for (i = 0; i < 2; i++) {
		char c = v[i];

		if (c >= 'a' && c <= 'z' && upper)
			c -= 'a' - 'A';
		else if (c >= 'A' && c <= 'Z' && !upper)
			c += 'a' - 'A';
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return false;
		code[i] = c;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *at = list + 3 * mid;
		int cmp = at[0] != code[0] ? at[0] - code[0] : at[1] - code[1];

		if (!cmp)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Well-formed UTF-8 without control characters. */
bool mc3_clean_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n, k;
		unsigned int cp;

		if (len - i >= 8 && !swar_not_printable(swar_load(s + i))) {
			i += 8;
			continue;
		}

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if (len - i <= n)	/* truncated */
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, past U+10FFFF, C1 controls. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n + 1;
	}
	return true;
}

static bool all_digits(const char *v, size_t len, size_t max)
{
	size_t i;

	if (!len || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

/* A fully qualified host name: two labels or more, LDH, 253 octets at most. */
static bool hostname(const char *v, size_t len)
{
	size_t i, label = 0, labels = 0;

	if (len && v[len - 1] == '.')
		len--;
	if (!len || len > 253)
		return false;
	for (i = 0; i <= len; i++) {
		char c = i < len ? v[i] : '.';

		if (c == '.') {
			if (!label || label > 63 || v[i - 1] == '-')
				return false;
			labels++;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c == '-' && label)) {
			label++;
		} else {
			return false;
		}
	}
	return labels >= 2;
}

static bool key_id(const char *v, size_t len)
{
	size_t i;

	if (!len || len > 64)
		return false;
	for (i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || strchr("._-", v[i])))
			return false;
	return true;
}

/* Why value v breaks field f's own rule, or NULL. */
static const char *field_rule(int f, const char *v, size_t len)
{
	switch (f) {
	case F_TID:
	case F_ICI:
	case F_USER:
	case F_SIGNATURE:
		return len ? NULL : "empty";
	case F_LANGUAGE:
		return in_code_list(iso639_1, sizeof(iso639_1) - 1, v, len, false) ? NULL :
		       "not an ISO 639-1 alpha-2 language code";
	case F_CC:
		return in_code_list(iso3166_1, sizeof(iso3166_1) - 1, v, len, true) ? NULL :
		       "not an ISO 3166-1 alpha-2 country code";
	case F_AGE:
	case F_INCOME:
		return len && len <= 20 ? NULL : "empty or longer than 20 octets";
	case F_GENDER:
		return (len == 6 && !memcmp(v, "female", 6)) || (len == 4 && !memcmp(v, "male", 4)) ?
		       NULL : "neither female nor male";
	case F_COUNT:
		return all_digits(v, len, 9) ? NULL : "not a number";
	case F_TS:
		return all_digits(v, len, 19) ? NULL : "not a number of seconds";
	case F_ADDR:
		return hostname(v, len) ? NULL : "not a fully qualified host name";
	case F_APIKEYID:
		return key_id(v, len) ? NULL : "not 1 to 64 of A-Z a-z 0-9 . _ -";
	}
	return NULL;
}

bool mc3_field_valid(int f, const char *v, size_t len, bool printable,
		     char *err, size_t errlen)
{
	const char *why;

	if (len > MC3_MAX_VALUE || (!printable && !mc3_clean_utf8((const unsigned char *)v, len)))
		why = "longer than 256 octets, not UTF-8, or with control characters";
	else
		why = field_rule(f, v, len);
	if (why)
		snprintf(err, errlen, "field '%s': %s", mc3_field_names[f], why);
	return !why;
}
