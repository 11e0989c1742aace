/*
 * Control protocol helpers shared by gpuvmd and gpuvmctl (control_proto.h):
 * value parsing, request encode/decode, reply encode/parse, line framing
 * and the client's blocking call.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control_proto.h"
#include "sched_policy.h"

#define MIB (UINT64_C(1) << 20)
/* A reply is never near this; it only bounds what a broken peer can make us hold. */
#define CLIENT_REPLY_MAX (16u << 20)

const char *ctl_default_socket(void)
{
	const char *env = getenv(CTL_SOCKET_ENV);

	return env && *env ? env : CTL_DEFAULT_SOCKET;
}

/* ---- Values ------------------------------------------------------------------ */

/* Shift for a K/M/G/T suffix (or none), or -1. */
static int size_suffix_shift(const char *s, const char **rest)
{
	static const char units[] = "KMGT";
	const char *u = *s ? strchr(units, toupper((unsigned char)*s)) : NULL;

	*rest = u ? s + 1 : s;
	return u ? 10 * (int)(u - units + 1) : 0;
}

/* After the multiplier: nothing, "B" or "iB" (any case; "iB" only after a multiplier). */
static bool size_tail_ok(const char *rest, int shift)
{
	if (!*rest || !strcasecmp(rest, "b"))
		return true;
	return shift > 0 && !strcasecmp(rest, "ib");
}

int ctl_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen)
{
	unsigned long long v;
	const char *rest;
	char *end;
	int shift;

	if (!text || !isdigit((unsigned char)text[0]))
		goto invalid;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno == ERANGE)
		goto too_large;
	shift = size_suffix_shift(end, &rest);
	if (!size_tail_ok(rest, shift))
		goto invalid;
	if (shift && v > (UINT64_MAX >> shift))
		goto too_large;
	*bytes = (uint64_t)v << shift;
	return 0;
invalid:
	snprintf(err, errlen, "invalid size '%.64s' (expected bytes or a number with a "
		 "K, M, G or T suffix, e.g. 256M)", text ? text : "");
	return -1;
too_large:
	snprintf(err, errlen, "size '%.64s' is too large", text);
	return -1;
}

static bool name_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

int ctl_check_name(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);

	if (len == 0) {
		snprintf(err, errlen, "vGPU name must not be empty");
		return -1;
	}
	if (len >= VGPU_NAME_MAX) {
		snprintf(err, errlen, "vGPU name is too long (%zu characters, at most %d)",
			 len, VGPU_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (name_char_ok((char)c))
			continue;
		if (isprint(c))
			snprintf(err, errlen, "invalid character '%c' in vGPU name (allowed: "
				 "letters, digits, '_', '.', '-')", c);
		else
			snprintf(err, errlen, "invalid byte 0x%02x in vGPU name (allowed: "
				 "letters, digits, '_', '.', '-')", c);
		return -1;
	}
	return 0;
}

int ctl_check_vram(uint64_t bytes, char *err, size_t errlen)
{
	if (bytes == 0) {
		snprintf(err, errlen, "vram must not be zero");
		return -1;
	}
	if (bytes % VGPU_VRAM_ALIGN == 0)
		return 0;
	if (bytes % MIB == 0)
		snprintf(err, errlen, "vram %" PRIu64 " MiB is not a multiple of %llu MiB",
			 bytes / MIB, (unsigned long long)(VGPU_VRAM_ALIGN / MIB));
	else
		snprintf(err, errlen, "vram %" PRIu64 " bytes is not a multiple of %llu MiB",
			 bytes, (unsigned long long)(VGPU_VRAM_ALIGN / MIB));
	return -1;
}

int ctl_check_channels(int64_t channels, char *err, size_t errlen)
{
	if (channels < 1 || channels > VGPU_MAX_CHANNELS) {
		snprintf(err, errlen, "channels must be 1..%d (got %" PRId64 ")",
			 VGPU_MAX_CHANNELS, channels);
		return -1;
	}
	return 0;
}

int ctl_check_weight(int64_t weight, char *err, size_t errlen)
{
	if (weight < 1 || weight > SCHED_MAX_WEIGHT) {
		snprintf(err, errlen, "weight must be 1..%d (got %" PRId64 ")", SCHED_MAX_WEIGHT, weight);
		return -1;
	}
	return 0;
}

int ctl_check_cap(int64_t cap, char *err, size_t errlen)
{
	if (cap < 0 || cap > CTL_CAP_MAX) {
		snprintf(err, errlen, "cap must be 0..%d percent, 0 for no cap (got %" PRId64 ")",
			 CTL_CAP_MAX, cap);
		return -1;
	}
	return 0;
}

int ctl_check_policy(const char *name, char *err, size_t errlen)
{
	if (strlen(name) >= CTL_POLICY_MAX || !sched_policy_find(name)) {
		snprintf(err, errlen, "unknown scheduling policy '%.32s' (expected direct, fifo, "
			 "credit or band)", name);
		return -1;
	}
	return 0;
}

int ctl_check_ms(const char *what, int64_t ms, int64_t max, char *err, size_t errlen)
{
	if (ms < 1 || ms > max) {
		snprintf(err, errlen, "%s must be 1..%" PRId64 " (got %" PRId64 ")", what, max, ms);
		return -1;
	}
	return 0;
}

/* ---- Requests ----------------------------------------------------------------- */

enum {
	F_NAME = 1 << 0,
	F_VRAM = 1 << 1,
	F_CHANNELS = 1 << 2,
	F_MODE = 1 << 3,
	F_WEIGHT = 1 << 4,
	F_CAP = 1 << 5,
	F_POLICY = 1 << 6,
	F_PERIOD = 1 << 7,
	F_TICK = 1 << 8,
	F_TSLICE = 1 << 9,
	F_OPT_LAZY = 1 << 10,
	F_OPT_REMAP = 1 << 11,
	F_DOMAIN = 1 << 12,
	F_BDF = 1 << 13,
	F_LAST = F_BDF
};

struct op_spec {
	const char *name;
	unsigned allowed;
	unsigned required;
};

static const struct op_spec op_specs[CTL_OP_COUNT] = {
	[CTL_OP_VERSION] = { "version", 0, 0 },
	[CTL_OP_CREATE] = { "create", F_NAME | F_VRAM | F_CHANNELS | F_MODE | F_WEIGHT | F_CAP, F_NAME },
	[CTL_OP_DESTROY] = { "destroy", F_NAME, F_NAME },
	[CTL_OP_RESET] = { "reset", F_NAME, F_NAME },
	[CTL_OP_LIST] = { "list", 0, 0 },
	[CTL_OP_INFO] = { "info", F_NAME, F_NAME },
	[CTL_OP_CHECK] = { "check", F_NAME, 0 },
	[CTL_OP_SHUTDOWN] = { "shutdown", 0, 0 },
	[CTL_OP_SCHED] = { "sched", F_POLICY | F_PERIOD | F_TICK | F_TSLICE, 0 },
	[CTL_OP_SCHED_CREDIT] = { "sched-credit", F_NAME | F_WEIGHT | F_CAP | F_TSLICE, 0 },
	[CTL_OP_STATS] = { "stats", F_NAME, 0 },
	[CTL_OP_SET_MODE] = { "set-mode", F_NAME | F_MODE | F_OPT_LAZY | F_OPT_REMAP, F_NAME | F_MODE },
	[CTL_OP_ATTACH] = { "attach", F_DOMAIN | F_VRAM | F_CHANNELS | F_MODE | F_BDF, F_DOMAIN },
	[CTL_OP_DETACH] = { "detach", F_DOMAIN, F_DOMAIN },
};

static const struct {
	const char *key;
	unsigned flag;
} fields[] = {
	{ "name", F_NAME },
	{ "vram", F_VRAM },
	{ "channels", F_CHANNELS },
	{ "mode", F_MODE },
	{ "weight", F_WEIGHT },
	{ "cap", F_CAP },
	{ "policy", F_POLICY },
	{ "period_ms", F_PERIOD },
	{ "tick_ms", F_TICK },
	{ "tslice_ms", F_TSLICE },
	{ "opt_lazy", F_OPT_LAZY },
	{ "opt_remap", F_OPT_REMAP },
	{ "domain", F_DOMAIN },
	{ "bdf", F_BDF },
};

const char *ctl_op_name(enum ctl_op op)
{
	return (unsigned)op < CTL_OP_COUNT ? op_specs[op].name : "?";
}

int ctl_op_parse(const char *name)
{
	for (int i = 0; i < CTL_OP_COUNT; i++)
		if (!strcmp(name, op_specs[i].name))
			return i;
	return -1;
}

void ctl_request_init(struct ctl_request *req, enum ctl_op op)
{
	memset(req, 0, sizeof(*req));
	req->op = op;
}

static int add_string(struct json_object *obj, const char *key, const char *val)
{
	struct json_object *s = json_object_new_string(val);

	if (!s)
		return -1;
	return json_object_object_add(obj, key, s);
}

static int add_u64(struct json_object *obj, const char *key, uint64_t val)
{
	struct json_object *n = json_object_new_uint64(val);

	if (!n)
		return -1;
	return json_object_object_add(obj, key, n);
}

static int request_fill(struct json_object *obj, const struct ctl_request *req)
{
	int r = add_string(obj, "op", ctl_op_name(req->op));

	if (!r && req->name[0])
		r = add_string(obj, "name", req->name);
	if (!r && req->has_vram)
		r = add_u64(obj, "vram", req->vram);
	if (!r && req->has_channels)
		r = add_u64(obj, "channels", req->channels);
	if (!r && req->has_mode)
		r = add_string(obj, "mode", req->mode);
	if (!r && req->has_weight)
		r = add_u64(obj, "weight", req->weight);
	if (!r && req->has_cap)
		r = add_u64(obj, "cap", req->cap);
	if (!r && req->has_policy)
		r = add_string(obj, "policy", req->policy);
	if (!r && req->has_period)
		r = add_u64(obj, "period_ms", req->period_ms);
	if (!r && req->has_tick)
		r = add_u64(obj, "tick_ms", req->tick_ms);
	if (!r && req->has_tslice)
		r = add_u64(obj, "tslice_ms", req->tslice_ms);
	if (!r && req->has_opt_lazy)
		r = json_object_object_add(obj, "opt_lazy", json_object_new_boolean(req->opt_lazy));
	if (!r && req->has_opt_remap)
		r = json_object_object_add(obj, "opt_remap", json_object_new_boolean(req->opt_remap));
	if (!r && req->domain[0])
		r = add_string(obj, "domain", req->domain);
	if (!r && req->has_bdf)
		r = add_string(obj, "bdf", req->bdf);
	return r;
}

/* obj as one line with a newline; does not put obj. */
static char *json_line(struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len;
	char *line;

	if (!text)
		return NULL;
	len = strlen(text);
	line = malloc(len + 2);
	if (!line)
		return NULL;
	memcpy(line, text, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	return line;
}

char *ctl_request_encode(const struct ctl_request *req)
{
	struct json_object *obj = json_object_new_object();
	char *line = NULL;

	if (!obj)
		return NULL;
	if (!request_fill(obj, req))
		line = json_line(obj);
	json_object_put(obj);
	return line;
}

/*
 * The whole line must be one JSON value, with nothing but whitespace after
 * it.  0 with *out (NULL for a JSON null), or -1 with a message.
 */
static int parse_json_line(const char *line, size_t len, struct json_object **out,
			   char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t used;

	*out = NULL;
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && used == len) {
		/* A bare number may go on: a NUL tells the tokener the line ended. */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_tokener_free(tok);
			snprintf(err, errlen, "not valid JSON: unexpected end of line");
			goto fail;
		}
		jerr = json_tokener_success;
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "not valid JSON: %s", json_tokener_error_desc(jerr));
		goto fail;
	}
	while (used < len && isspace((unsigned char)line[used]))
		used++;
	if (used < len) {
		snprintf(err, errlen, "not valid JSON: unexpected text after the object");
		goto fail;
	}
	*out = obj;
	return 0;
fail:
	json_object_put(obj);
	return -1;
}

static int decode_name(struct json_object *val, struct ctl_request *req, char *err, size_t errlen)
{
	const char *s;

	if (!json_object_is_type(val, json_type_string)) {
		snprintf(err, errlen, "field 'name' must be a string");
		return -1;
	}
	s = json_object_get_string(val);
	if (strlen(s) != (size_t)json_object_get_string_len(val)) {
		snprintf(err, errlen, "invalid byte 0x00 in vGPU name");
		return -1;
	}
	if (ctl_check_name(s, err, errlen))
		return -1;
	snprintf(req->name, sizeof(req->name), "%s", s);
	return 0;
}

static int decode_vram(struct json_object *val, struct ctl_request *req, char *err, size_t errlen)
{
	if (json_object_is_type(val, json_type_string)) {
		if (ctl_parse_size(json_object_get_string(val), &req->vram, err, errlen))
			return -1;
	} else if (json_object_is_type(val, json_type_int)) {
		if (json_object_get_int64(val) < 0) {
			snprintf(err, errlen, "field 'vram' must not be negative");
			return -1;
		}
		req->vram = json_object_get_uint64(val);
	} else {
		snprintf(err, errlen, "field 'vram' must be a size in bytes or a string like \"256M\"");
		return -1;
	}
	req->has_vram = true;
	return ctl_check_vram(req->vram, err, errlen);
}

static int decode_channels(struct json_object *val, struct ctl_request *req, char *err, size_t errlen)
{
	int64_t n;

	if (!json_object_is_type(val, json_type_int)) {
		snprintf(err, errlen, "field 'channels' must be an integer");
		return -1;
	}
	n = json_object_get_int64(val);
	if (ctl_check_channels(n, err, errlen))
		return -1;
	req->channels = (unsigned)n;
	req->has_channels = true;
	return 0;
}

static int decode_mode(struct json_object *val, struct ctl_request *req, char *err, size_t errlen)
{
	if (!json_object_is_type(val, json_type_string)) {
		snprintf(err, errlen, "field 'mode' must be a string");
		return -1;
	}
	if ((size_t)json_object_get_string_len(val) >= sizeof(req->mode)) {
		snprintf(err, errlen, "unknown mode (name too long)");
		return -1;
	}
	snprintf(req->mode, sizeof(req->mode), "%s", json_object_get_string(val));
	req->has_mode = true;
	return 0;
}

/* An integer field; *out and range checked by the caller. */
static int decode_int(struct json_object *val, const char *key, int64_t *out, char *err, size_t errlen)
{
	if (!json_object_is_type(val, json_type_int)) {
		snprintf(err, errlen, "field '%s' must be an integer", key);
		return -1;
	}
	*out = json_object_get_int64(val);
	return 0;
}

/* opt_lazy / opt_remap: booleans. */
static int decode_opt(unsigned flag, const char *key, struct json_object *val,
		      struct ctl_request *req, char *err, size_t errlen)
{
	bool on;

	if (!json_object_is_type(val, json_type_boolean)) {
		snprintf(err, errlen, "field '%s' must be true or false", key);
		return -1;
	}
	on = json_object_get_boolean(val);
	if (flag == F_OPT_LAZY) {
		req->has_opt_lazy = true;
		req->opt_lazy = on;
	} else {
		req->has_opt_remap = true;
		req->opt_remap = on;
	}
	return 0;
}

static int decode_policy(struct json_object *val, struct ctl_request *req, char *err, size_t errlen)
{
	const char *s;

	if (!json_object_is_type(val, json_type_string)) {
		snprintf(err, errlen, "field 'policy' must be a string");
		return -1;
	}
	s = json_object_get_string(val);
	if (strlen(s) != (size_t)json_object_get_string_len(val) ||
	    ctl_check_policy(s, err, errlen))
		return -1;
	snprintf(req->policy, sizeof(req->policy), "%s", s);
	req->has_policy = true;
	return 0;
}

/* weight, cap, period_ms, tick_ms, tslice_ms. */
static int decode_sched_int(unsigned flag, const char *key, struct json_object *val,
			    struct ctl_request *req, char *err, size_t errlen)
{
	int64_t n;

	if (decode_int(val, key, &n, err, errlen))
		return -1;
	switch (flag) {
	case F_WEIGHT:
		if (ctl_check_weight(n, err, errlen))
			return -1;
		req->weight = (unsigned)n;
		req->has_weight = true;
		return 0;
	case F_CAP:
		if (ctl_check_cap(n, err, errlen))
			return -1;
		req->cap = (unsigned)n;
		req->has_cap = true;
		return 0;
	case F_PERIOD:
		if (ctl_check_ms(key, n, CTL_PERIOD_MS_MAX, err, errlen))
			return -1;
		req->period_ms = (unsigned)n;
		req->has_period = true;
		return 0;
	case F_TICK:
		if (ctl_check_ms(key, n, CTL_TICK_MS_MAX, err, errlen))
			return -1;
		req->tick_ms = (unsigned)n;
		req->has_tick = true;
		return 0;
	default:
		if (ctl_check_ms(key, n, CTL_TSLICE_MS_MAX, err, errlen))
			return -1;
		req->tslice_ms = (unsigned)n;
		req->has_tslice = true;
		return 0;
	}
}

/*
 * domain (a Xen domain name or id) and bdf (checked by the backend): printable
 * ASCII without spaces, not empty, and short enough.
 */
static int decode_attach_string(unsigned flag, const char *key, struct json_object *val,
				struct ctl_request *req, char *err, size_t errlen)
{
	char *dst = flag == F_DOMAIN ? req->domain : req->bdf;
	size_t max = flag == F_DOMAIN ? sizeof(req->domain) : sizeof(req->bdf);
	const char *s;
	size_t len;

	if (!json_object_is_type(val, json_type_string)) {
		snprintf(err, errlen, "field '%s' must be a string", key);
		return -1;
	}
	s = json_object_get_string(val);
	len = (size_t)json_object_get_string_len(val);
	if (!len || len >= max || strlen(s) != len) {
		snprintf(err, errlen, "field '%s' must be 1 to %zu characters", key, max - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~') {
			snprintf(err, errlen, "invalid byte 0x%02x in field '%s'",
				 (unsigned char)s[i], key);
			return -1;
		}
	memcpy(dst, s, len + 1);
	if (flag == F_BDF)
		req->has_bdf = true;
	return 0;
}

static int decode_field(unsigned flag, const char *key, struct json_object *val,
			struct ctl_request *req, char *err, size_t errlen)
{
	switch (flag) {
	case F_NAME:
		return decode_name(val, req, err, errlen);
	case F_VRAM:
		return decode_vram(val, req, err, errlen);
	case F_CHANNELS:
		return decode_channels(val, req, err, errlen);
	case F_MODE:
		return decode_mode(val, req, err, errlen);
	case F_POLICY:
		return decode_policy(val, req, err, errlen);
	case F_DOMAIN:
	case F_BDF:
		return decode_attach_string(flag, key, val, req, err, errlen);
	case F_OPT_LAZY:
	case F_OPT_REMAP:
		return decode_opt(flag, key, val, req, err, errlen);
	default:
		return decode_sched_int(flag, key, val, req, err, errlen);
	}
}

/* Rules between fields, once each is known to be valid on its own. */
static int check_combination(const struct ctl_request *req, char *err, size_t errlen)
{
	if (req->op == CTL_OP_SCHED_CREDIT && (req->has_weight || req->has_cap) && !req->name[0]) {
		snprintf(err, errlen, "setting a weight or cap needs the vGPU's 'name'");
		return -1;
	}
	if (req->has_tick && req->has_period && req->tick_ms > req->period_ms) {
		snprintf(err, errlen, "tick_ms (%u) must not exceed period_ms (%u)", req->tick_ms,
			 req->period_ms);
		return -1;
	}
	return 0;
}

static unsigned field_flag(const char *key)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(key, fields[i].key))
			return fields[i].flag;
	return 0;
}

static const char *field_key(unsigned flag)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].flag == flag)
			return fields[i].key;
	return "?";
}

static int decode_op(struct json_object *obj, struct ctl_request *req, char *err, size_t errlen)
{
	struct json_object *val;
	int op;

	if (!json_object_object_get_ex(obj, "op", &val)) {
		snprintf(err, errlen, "missing field 'op'");
		return -1;
	}
	if (!json_object_is_type(val, json_type_string)) {
		snprintf(err, errlen, "field 'op' must be a string");
		return -1;
	}
	op = ctl_op_parse(json_object_get_string(val));
	if (op < 0) {
		snprintf(err, errlen, "unknown op '%.32s'", json_object_get_string(val));
		return -1;
	}
	ctl_request_init(req, (enum ctl_op)op);
	return 0;
}

static int decode_fields(struct json_object *obj, struct ctl_request *req, char *err, size_t errlen)
{
	const struct op_spec *spec = &op_specs[req->op];
	unsigned seen = 0;

	json_object_object_foreach(obj, key, val) {
		unsigned flag = field_flag(key);

		if (!strcmp(key, "op"))
			continue;
		if (!(flag & spec->allowed)) {
			snprintf(err, errlen, "unknown field '%.32s' for op '%s'", key, spec->name);
			return -1;
		}
		if (decode_field(flag, key, val, req, err, errlen))
			return -1;
		seen |= flag;
	}
	for (unsigned f = 1; f <= F_LAST; f <<= 1)
		if ((spec->required & f) && !(seen & f)) {
			snprintf(err, errlen, "missing field '%s' for op '%s'", field_key(f), spec->name);
			return -1;
		}
	return check_combination(req, err, errlen);
}

int ctl_request_decode(const char *line, size_t len, struct ctl_request *req,
		       char *err, size_t errlen)
{
	struct json_object *obj;
	int ret = -1;

	if (parse_json_line(line, len, &obj, err, errlen))
		return -1;
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "request must be a JSON object");
		goto out;
	}
	if (decode_op(obj, req, err, errlen) || decode_fields(obj, req, err, errlen))
		goto out;
	ret = 0;
out:
	json_object_put(obj);
	return ret;
}

/* ---- Replies ------------------------------------------------------------------ */

struct json_object *ctl_reply_new_ok(void)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *t = json_object_new_boolean(1);

	if (!obj || !t || json_object_object_add(obj, "ok", t)) {
		json_object_put(t);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

char *ctl_reply_encode(struct json_object *reply)
{
	return json_line(reply);
}

char *ctl_reply_encode_error(const char *msg)
{
	static const char fallback[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";
	struct json_object *obj = json_object_new_object();
	struct json_object *f = json_object_new_boolean(0);
	char *line = NULL;

	if (obj && f && !json_object_object_add(obj, "ok", f)) {
		f = NULL;
		if (!add_string(obj, "error", msg))
			line = json_line(obj);
	}
	json_object_put(f);
	json_object_put(obj);
	return line ? line : strdup(fallback);
}

int ctl_reply_parse(const char *line, size_t len, struct json_object **reply,
		    char *err, size_t errlen)
{
	char why[CTL_ERR_MAX];
	struct json_object *obj, *ok;

	*reply = NULL;
	if (parse_json_line(line, len, &obj, why, sizeof(why))) {
		snprintf(err, errlen, "malformed reply from gpuvmd: %s", why);
		return -1;
	}
	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		snprintf(err, errlen, "malformed reply from gpuvmd: no \"ok\" field");
		json_object_put(obj);
		return -1;
	}
	if (!json_object_get_boolean(ok)) {
		const char *msg = ctl_json_str(obj, "error");

		snprintf(err, errlen, "%s", msg ? msg : "unspecified error");
		json_object_put(obj);
		return 1;
	}
	*reply = obj;
	return 0;
}

/* ---- vgpu_info as JSON ------------------------------------------------------------- */

enum info_kind { INFO_U64, INFO_UINT, INFO_BOOL };

static const struct info_field {
	const char *key;
	enum info_kind kind;
	size_t off;
} info_fields[] = {
	{ "id", INFO_UINT, offsetof(struct vgpu_info, id) },
	{ "vram_size", INFO_U64, offsetof(struct vgpu_info, vram_size) },
	{ "vram_base", INFO_U64, offsetof(struct vgpu_info, vram_base) },
	{ "channels", INFO_UINT, offsetof(struct vgpu_info, channels) },
	{ "channels_bound", INFO_UINT, offsetof(struct vgpu_info, channels_bound) },
	{ "attached", INFO_BOOL, offsetof(struct vgpu_info, attached) },
	{ "mmio_reads", INFO_U64, offsetof(struct vgpu_info, mmio_reads) },
	{ "mmio_writes", INFO_U64, offsetof(struct vgpu_info, mmio_writes) },
	{ "denied", INFO_U64, offsetof(struct vgpu_info, denied) },
	{ "pte_rejected", INFO_U64, offsetof(struct vgpu_info, pte_rejected) },
	{ "reshadows", INFO_U64, offsetof(struct vgpu_info, reshadows) },
	{ "tlb_flushes", INFO_U64, offsetof(struct vgpu_info, tlb_flushes) },
	{ "submissions", INFO_U64, offsetof(struct vgpu_info, submissions) },
	{ "faults", INFO_U64, offsetof(struct vgpu_info, faults) },
	{ "pv_doorbells", INFO_U64, offsetof(struct vgpu_info, pv_doorbells) },
	{ "pv_requests", INFO_U64, offsetof(struct vgpu_info, pv_requests) },
	{ "pv_errors", INFO_U64, offsetof(struct vgpu_info, pv_errors) },
	{ "mode_switches", INFO_U64, offsetof(struct vgpu_info, mode_switches) },
	{ "guest_resets", INFO_U64, offsetof(struct vgpu_info, guest_resets) },
	{ "opt_lazy", INFO_BOOL, offsetof(struct vgpu_info, opt_lazy) },
	{ "opt_remap", INFO_BOOL, offsetof(struct vgpu_info, opt_remap) },
};

#define N_INFO_FIELDS (sizeof(info_fields) / sizeof(info_fields[0]))

static struct json_object *info_field_to_json(const struct vgpu_info *info, const struct info_field *f)
{
	const char *p = (const char *)info + f->off;

	switch (f->kind) {
	case INFO_U64:
		return json_object_new_uint64(*(const uint64_t *)p);
	case INFO_UINT:
		return json_object_new_uint64(*(const unsigned *)p);
	default:
		return json_object_new_boolean(*(const bool *)p);
	}
}

struct json_object *ctl_info_to_json(const struct vgpu_info *info, const char *mode_name)
{
	struct json_object *obj = json_object_new_object();

	if (!obj || add_string(obj, "name", info->name))
		goto fail;
	for (size_t i = 0; i < N_INFO_FIELDS; i++) {
		struct json_object *v = info_field_to_json(info, &info_fields[i]);

		if (!v || json_object_object_add(obj, info_fields[i].key, v)) {
			json_object_put(v);
			goto fail;
		}
		/* Right after the id, where a reader looks for it. */
		if (i == 0 && add_string(obj, "mode", mode_name))
			goto fail;
		if (i == 0 && add_string(obj, "pending_mode", vgpu_mode_name(info->pending_mode)))
			goto fail;
	}
	return obj;
fail:
	json_object_put(obj);
	return NULL;
}

static void info_field_from_json(struct vgpu_info *info, const struct info_field *f,
				 struct json_object *v)
{
	char *p = (char *)info + f->off;

	switch (f->kind) {
	case INFO_U64:
		*(uint64_t *)p = json_object_get_uint64(v);
		break;
	case INFO_UINT:
		*(unsigned *)p = (unsigned)json_object_get_uint64(v);
		break;
	default:
		*(bool *)p = json_object_get_boolean(v);
		break;
	}
}

static bool info_field_type_ok(const struct info_field *f, struct json_object *v)
{
	return json_object_is_type(v, f->kind == INFO_BOOL ? json_type_boolean : json_type_int);
}

/* Optional (older daemons lack it): the mode a switch waits to apply. */
static void info_pending_mode_from_json(struct json_object *obj, const char *mode,
					struct vgpu_info *info)
{
	const char *p = ctl_json_str(obj, "pending_mode");
	int m = vgpu_mode_parse(p ? p : mode);

	info->mode = vgpu_mode_parse(mode) < 0 ? VGPU_MODE_FULL : (enum vgpu_mode)vgpu_mode_parse(mode);
	info->pending_mode = m < 0 ? info->mode : (enum vgpu_mode)m;
}

int ctl_info_from_json(struct json_object *obj, struct vgpu_info *info,
		       char *mode, size_t modelen, char *err, size_t errlen)
{
	const char *name = ctl_json_str(obj, "name");
	const char *m = ctl_json_str(obj, "mode");

	memset(info, 0, sizeof(*info));
	if (!name || !m) {
		snprintf(err, errlen, "vGPU record without a name or mode");
		return -1;
	}
	snprintf(info->name, sizeof(info->name), "%s", name);
	snprintf(mode, modelen, "%s", m);
	info_pending_mode_from_json(obj, m, info);
	for (size_t i = 0; i < N_INFO_FIELDS; i++) {
		struct json_object *v;

		if (!json_object_object_get_ex(obj, info_fields[i].key, &v) ||
		    !info_field_type_ok(&info_fields[i], v)) {
			snprintf(err, errlen, "vGPU record: field '%s' missing or mistyped",
				 info_fields[i].key);
			return -1;
		}
		info_field_from_json(info, &info_fields[i], v);
	}
	return 0;
}

uint64_t ctl_json_u64(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v) < 0 ? 0 : json_object_get_uint64(v);
}

bool ctl_json_bool(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

const char *ctl_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ---- Framing ------------------------------------------------------------------ */

void ctl_linebuf_init(struct ctl_linebuf *lb)
{
	lb->start = lb->len = 0;
	lb->skipping = false;
}

char *ctl_linebuf_space(struct ctl_linebuf *lb, size_t *room)
{
	if (lb->start > 0) {
		memmove(lb->data, lb->data + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->start = 0;
	}
	*room = sizeof(lb->data) - lb->len;
	return lb->data + lb->len;
}

void ctl_linebuf_commit(struct ctl_linebuf *lb, size_t n)
{
	lb->len += n;
}

size_t ctl_linebuf_pending(const struct ctl_linebuf *lb)
{
	return lb->len - lb->start;
}

/* Drop the rest of an oversized line; true once its newline has gone by. */
static bool linebuf_skip(struct ctl_linebuf *lb)
{
	char *nl = memchr(lb->data + lb->start, '\n', lb->len - lb->start);

	if (!nl) {
		lb->start = lb->len = 0;
		return false;
	}
	lb->start = (size_t)(nl - lb->data) + 1;
	lb->skipping = false;
	return true;
}

enum ctl_line_status ctl_linebuf_next(struct ctl_linebuf *lb, char **line, size_t *len)
{
	char *begin, *nl;
	size_t n;

	if (lb->skipping && !linebuf_skip(lb))
		return CTL_LINE_NONE;
	begin = lb->data + lb->start;
	nl = memchr(begin, '\n', lb->len - lb->start);
	if (!nl) {
		if (ctl_linebuf_pending(lb) <= CTL_MAX_LINE)
			return CTL_LINE_NONE;
		lb->skipping = true;
		linebuf_skip(lb);
		return CTL_LINE_TOO_LONG;
	}
	n = (size_t)(nl - begin);
	lb->start += n + 1;
	if (n > 0 && begin[n - 1] == '\r')
		n--;
	begin[n] = '\0';
	*line = begin;
	*len = n;
	return CTL_LINE_OK;
}

/* ---- Client transport ------------------------------------------------------------ */

int ctl_client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot connect to gpuvmd at %s: %s%s", path, strerror(e),
			 e == ENOENT || e == ECONNREFUSED ? " (is gpuvmd running?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, char *err, size_t errlen)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "sending to gpuvmd: %s", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for input until deadline (-1: none).  1 readable, 0 timed out, -1 error. */
static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int timeout = deadline < 0 ? -1 : (int)(deadline > now_ms() ? deadline - now_ms() : 0);
		int r = poll(&p, 1, timeout);

		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r > 0;
	}
}

struct reply_buf {
	char *data;
	size_t len, cap;
};

static int reply_buf_grow(struct reply_buf *rb, char *err, size_t errlen)
{
	size_t cap = rb->cap ? rb->cap * 2 : 4096;
	char *p;

	if (cap > CLIENT_REPLY_MAX) {
		snprintf(err, errlen, "reply from gpuvmd is too long");
		return -1;
	}
	p = realloc(rb->data, cap);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rb->data = p;
	rb->cap = cap;
	return 0;
}

/* Read into rb until it holds a newline.  0, or -1 with a message. */
static int read_reply_line(int fd, struct reply_buf *rb, int64_t deadline, char *err, size_t errlen)
{
	while (!rb->len || !memchr(rb->data, '\n', rb->len)) {
		ssize_t n;
		int r;

		if (rb->len + 1 >= rb->cap && reply_buf_grow(rb, err, errlen))
			return -1;
		r = wait_readable(fd, deadline);
		if (r <= 0) {
			snprintf(err, errlen, r == 0 ? "timed out waiting for gpuvmd's reply"
				 : "waiting for gpuvmd's reply: %s", strerror(errno));
			return -1;
		}
		n = recv(fd, rb->data + rb->len, rb->cap - rb->len - 1, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			snprintf(err, errlen, n == 0 ? "gpuvmd closed the connection without a reply"
				 : "reading gpuvmd's reply: %s", strerror(errno));
			return -1;
		}
		rb->len += (size_t)n;
	}
	return 0;
}

int ctl_client_call(int fd, const char *request, char **reply, int timeout_ms,
		    char *err, size_t errlen)
{
	struct reply_buf rb = { 0 };
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	*reply = NULL;
	if (send_all(fd, request, strlen(request), err, errlen))
		return -1;
	if (read_reply_line(fd, &rb, deadline, err, errlen)) {
		free(rb.data);
		return -1;
	}
	*(char *)memchr(rb.data, '\n', rb.len) = '\0';
	*reply = rb.data;
	return 0;
}
