/*
 * Control protocol helpers (control_proto.c): sizes, names, request
 * encode/decode round trips, the error message of every kind of malformed
 * request, replies, vgpu_info as JSON, and line framing.  No daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control_proto.h"

#define MIB (UINT64_C(1) << 20)

static void test_parse_size_valid(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} cases[] = {
		{ "0", 0 }, { "4096", 4096 }, { "1K", 1024 }, { "1k", 1024 },
		{ "256M", 256 * MIB }, { "256MiB", 256 * MIB }, { "256mb", 256 * MIB },
		{ "16mib", 16 * MIB }, { "1G", 1024 * MIB }, { "1g", 1024 * MIB },
		{ "2T", UINT64_C(2) << 40 }, { "512B", 512 }, { "007M", 7 * MIB },
		{ "16777215T", UINT64_C(16777215) << 40 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[CTL_ERR_MAX] = "";
		uint64_t v = 1;

		if (ctl_parse_size(cases[i].text, &v, err, sizeof(err)))
			fail_msg("'%s': %s", cases[i].text, err);
		if (v != cases[i].bytes)
			fail_msg("'%s': got %llu", cases[i].text, (unsigned long long)v);
	}
}

static void test_parse_size_invalid(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "", "invalid size" }, { "M", "invalid size" }, { "-1", "invalid size" },
		{ "+1", "invalid size" }, { " 1", "invalid size" }, { "1 M", "invalid size" },
		{ "1X", "invalid size" }, { "1.5G", "invalid size" }, { "1iB", "invalid size" },
		{ "1MiBs", "invalid size" }, { "16P", "invalid size" }, { "0x10", "invalid size" },
		{ "99999999999999999999", "too large" }, { "17179869184G", "too large" },
		{ "16777216T", "too large" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[CTL_ERR_MAX] = "";
		uint64_t v = 77;

		if (!ctl_parse_size(cases[i].text, &v, err, sizeof(err)))
			fail_msg("'%s' accepted as %llu", cases[i].text, (unsigned long long)v);
		if (!strstr(err, cases[i].want))
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].text, err, cases[i].want);
		assert_int_equal(v, 77);
	}
	assert_int_equal(ctl_parse_size(NULL, &(uint64_t){ 0 }, (char[64]){ 0 }, 64), -1);
}

static void test_check_name(void **state)
{
	static const char *const good[] = {
		"a", "vm-1", "VM_2.test", "0", "...", "abcdefghijklmnopqrstuvwxyz01234",
	};
	static const struct {
		const char *name;
		const char *want;
	} bad[] = {
		{ "", "must not be empty" },
		{ "abcdefghijklmnopqrstuvwxyz012345", "too long (32 characters, at most 31)" },
		{ "a b", "invalid character ' '" },
		{ "a/b", "invalid character '/'" },
		{ "vm\n", "invalid byte 0x0a" },
		{ "caf\xc3\xa9", "invalid byte 0xc3" },
		{ "x;rm", "invalid character ';'" },
	};
	char err[CTL_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (ctl_check_name(good[i], err, sizeof(err)))
			fail_msg("'%s' rejected: %s", good[i], err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ctl_check_name(bad[i].name, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].want))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].name, err, bad[i].want);
	}
}

static void test_check_vram_and_channels(void **state)
{
	char err[CTL_ERR_MAX];

	(void)state;
	assert_int_equal(ctl_check_vram(16 * MIB, err, sizeof(err)), 0);
	assert_int_equal(ctl_check_vram(4096 * MIB, err, sizeof(err)), 0);
	assert_int_equal(ctl_check_vram(0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must not be zero"));
	assert_int_equal(ctl_check_vram(17 * MIB, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "17 MiB is not a multiple of 16 MiB"));
	assert_int_equal(ctl_check_vram(16 * MIB + 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "16777217 bytes is not a multiple"));

	assert_int_equal(ctl_check_channels(1, err, sizeof(err)), 0);
	assert_int_equal(ctl_check_channels(64, err, sizeof(err)), 0);
	assert_int_equal(ctl_check_channels(0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "channels must be 1..64 (got 0)"));
	assert_int_equal(ctl_check_channels(65, err, sizeof(err)), -1);
	assert_int_equal(ctl_check_channels(-1, err, sizeof(err)), -1);
}

static void test_op_names(void **state)
{
	(void)state;
	for (int op = 0; op < CTL_OP_COUNT; op++)
		assert_int_equal(ctl_op_parse(ctl_op_name((enum ctl_op)op)), op);
	assert_int_equal(ctl_op_parse("frob"), -1);
	assert_int_equal(ctl_op_parse("LIST"), -1);
	assert_string_equal(ctl_op_name(CTL_OP_COUNT), "?");
}

static void assert_requests_equal(const struct ctl_request *a, const struct ctl_request *b)
{
	assert_int_equal(a->op, b->op);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->has_vram, b->has_vram);
	assert_int_equal(a->has_channels, b->has_channels);
	assert_int_equal(a->has_mode, b->has_mode);
	if (a->has_vram)
		assert_int_equal(a->vram, b->vram);
	if (a->has_channels)
		assert_int_equal(a->channels, b->channels);
	if (a->has_mode)
		assert_string_equal(a->mode, b->mode);
	assert_string_equal(a->domain, b->domain);
	assert_int_equal(a->has_bdf, b->has_bdf);
	if (a->has_bdf)
		assert_string_equal(a->bdf, b->bdf);
}

/* Every op, with and without its optional fields, survives encode + decode. */
static void test_request_roundtrip(void **state)
{
	struct ctl_request reqs[CTL_OP_COUNT + 8];
	size_t n = 0;

	(void)state;
	for (int op = 0; op < CTL_OP_COUNT; op++) {
		ctl_request_init(&reqs[n], (enum ctl_op)op);
		if (op == CTL_OP_CREATE || op == CTL_OP_DESTROY || op == CTL_OP_RESET ||
		    op == CTL_OP_INFO || op == CTL_OP_CHECK || op == CTL_OP_SET_MODE)
			strcpy(reqs[n].name, "vm-1.a_b");
		if (op == CTL_OP_SET_MODE) {
			reqs[n].has_mode = true;
			strcpy(reqs[n].mode, "pv");
		}
		if (op == CTL_OP_ATTACH || op == CTL_OP_DETACH)
			strcpy(reqs[n].domain, "guest-1");
		n++;
	}
	ctl_request_init(&reqs[n], CTL_OP_ATTACH);     /* attach with every option */
	strcpy(reqs[n].domain, "7");
	reqs[n].has_vram = reqs[n].has_channels = reqs[n].has_mode = reqs[n].has_bdf = true;
	reqs[n].vram = 64ull << 20;
	reqs[n].channels = 4;
	strcpy(reqs[n].mode, "full");
	strcpy(reqs[n].bdf, "00:05.0");
	n++;
	ctl_request_init(&reqs[n], CTL_OP_CREATE);
	strcpy(reqs[n].name, "big");
	reqs[n].has_vram = reqs[n].has_channels = reqs[n].has_mode = true;
	reqs[n].vram = UINT64_C(1) << 40;
	reqs[n].channels = 64;
	strcpy(reqs[n].mode, "pv-naive");
	n++;
	ctl_request_init(&reqs[n++], CTL_OP_CHECK);     /* check without a name */

	for (size_t i = 0; i < n; i++) {
		char *line = ctl_request_encode(&reqs[i]);
		struct ctl_request back;
		char err[CTL_ERR_MAX];
		size_t len;

		assert_non_null(line);
		len = strlen(line);
		assert_true(len > 0 && line[len - 1] == '\n');
		assert_null(memchr(line, '\n', len - 1));       /* exactly one line */
		if (ctl_request_decode(line, len - 1, &back, err, sizeof(err)))
			fail_msg("%s: %s", line, err);
		assert_requests_equal(&reqs[i], &back);
		free(line);
	}
}

static void test_request_decode_accepts(void **state)
{
	static const char *const lines[] = {
		"  {\"op\": \"list\"}  ",
		"{\"op\":\"create\",\"name\":\"a\",\"vram\":\"1G\"}",
		"{\"op\":\"create\",\"name\":\"a\",\"vram\":268435456,\"channels\":1,\"mode\":\"full\"}",
		"{\"op\":\"check\"}",
		"{\"op\":\"version\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ctl_request req;
		char err[CTL_ERR_MAX];

		if (ctl_request_decode(lines[i], strlen(lines[i]), &req, err, sizeof(err)))
			fail_msg("%s: %s", lines[i], err);
	}
}

static char *deep_nesting(void)
{
	static char s[512];
	size_t n = 0;

	for (int i = 0; i < 200; i++)
		s[n++] = '[';
	for (int i = 0; i < 200; i++)
		s[n++] = ']';
	s[n] = '\0';
	return s;
}

static void test_request_decode_errors(void **state)
{
	static const struct {
		const char *line;
		const char *want;
	} cases[] = {
		{ "", "not valid JSON" },
		{ "nope", "not valid JSON" },
		{ "{", "not valid JSON: unexpected end of line" },
		{ "{'op':'list'}", "not valid JSON" },
		{ "{\"op\":\"list\"} x", "not valid JSON" },
		{ "{\"op\":\"list\"}{\"op\":\"list\"}", "not valid JSON" },
		{ "[1,2]", "request must be a JSON object" },
		{ "\"op\"", "request must be a JSON object" },
		{ "42", "request must be a JSON object" },
		{ "null", "request must be a JSON object" },
		{ "{}", "missing field 'op'" },
		{ "{\"op\":1}", "field 'op' must be a string" },
		{ "{\"op\":null}", "field 'op' must be a string" },
		{ "{\"op\":\"frob\"}", "unknown op 'frob'" },
		{ "{\"op\":\"destroy\"}", "missing field 'name' for op 'destroy'" },
		{ "{\"op\":\"reset\"}", "missing field 'name' for op 'reset'" },
		{ "{\"op\":\"info\"}", "missing field 'name' for op 'info'" },
		{ "{\"op\":\"create\"}", "missing field 'name' for op 'create'" },
		{ "{\"op\":\"create\",\"vram\":\"1G\"}", "missing field 'name' for op 'create'" },
		{ "{\"op\":\"list\",\"name\":\"x\"}", "unknown field 'name' for op 'list'" },
		{ "{\"op\":\"destroy\",\"name\":\"x\",\"vram\":16}", "unknown field 'vram' for op 'destroy'" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"chanels\":2}", "unknown field 'chanels' for op 'create'" },
		{ "{\"op\":\"create\",\"name\":5}", "field 'name' must be a string" },
		{ "{\"op\":\"create\",\"name\":[\"a\"]}", "field 'name' must be a string" },
		{ "{\"op\":\"create\",\"name\":\"\"}", "vGPU name must not be empty" },
		{ "{\"op\":\"create\",\"name\":\"a b\"}", "invalid character ' '" },
		{ "{\"op\":\"create\",\"name\":\"a\\u0000b\"}", "invalid byte 0x00" },
		{ "{\"op\":\"info\",\"name\":\"abcdefghijklmnopqrstuvwxyz0123456789\"}", "too long" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":-16}", "must not be negative" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":0}", "vram must not be zero" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":\"17M\"}", "not a multiple of 16 MiB" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":1000}", "not a multiple of 16 MiB" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":\"lots\"}", "invalid size 'lots'" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":true}", "must be a size in bytes" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":1.5}", "must be a size in bytes" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"vram\":99999999999999999999999}", "vram" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"channels\":0}", "channels must be 1..64 (got 0)" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"channels\":65}", "channels must be 1..64 (got 65)" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"channels\":-1}", "channels must be 1..64 (got -1)" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"channels\":\"8\"}", "field 'channels' must be an integer" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"channels\":8.0}", "field 'channels' must be an integer" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"mode\":3}", "field 'mode' must be a string" },
		{ "{\"op\":\"create\",\"name\":\"a\",\"mode\":\"aaaaaaaaaaaaaaaaaaaaaaaa\"}", "unknown mode" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctl_request req;
		char err[CTL_ERR_MAX] = "";

		if (!ctl_request_decode(cases[i].line, strlen(cases[i].line), &req, err, sizeof(err)))
			fail_msg("accepted: %s", cases[i].line);
		if (!strstr(err, cases[i].want))
			fail_msg("%s: message '%s' lacks '%s'", cases[i].line, err, cases[i].want);
	}
	{
		struct ctl_request req;
		char err[CTL_ERR_MAX] = "";
		const char *s = deep_nesting();

		assert_int_equal(ctl_request_decode(s, strlen(s), &req, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "not valid JSON"));
	}
}

/* The length given is what counts: bytes past it are not part of the request. */
static void test_request_decode_length(void **state)
{
	const char *line = "{\"op\":\"list\"}garbage";
	struct ctl_request req;
	char err[CTL_ERR_MAX];

	(void)state;
	assert_int_equal(ctl_request_decode(line, 13, &req, err, sizeof(err)), 0);
	assert_int_equal(req.op, CTL_OP_LIST);
	assert_int_equal(ctl_request_decode(line, 12, &req, err, sizeof(err)), -1);
}

static void test_reply_parse(void **state)
{
	struct json_object *r;
	char err[CTL_ERR_MAX];
	const char *ok = "{\"ok\":true,\"protocol\":1}";
	const char *no = "{\"ok\":false,\"error\":\"no vGPU named 'x'\"}";
	static const char *const bad[] = {
		"x", "[]", "{}", "{\"ok\":\"yes\"}", "{\"ok\":1}", "{\"ok\":true} junk",
	};

	(void)state;
	assert_int_equal(ctl_reply_parse(ok, strlen(ok), &r, err, sizeof(err)), 0);
	assert_int_equal(ctl_json_u64(r, "protocol"), 1);
	json_object_put(r);
	assert_int_equal(ctl_reply_parse(no, strlen(no), &r, err, sizeof(err)), 1);
	assert_null(r);
	assert_string_equal(err, "no vGPU named 'x'");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctl_reply_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)), -1);
		assert_null(r);
		assert_non_null(strstr(err, "malformed reply"));
	}
}

/* Any message, quotes and newlines included, comes back intact on one line. */
static void test_reply_error_roundtrip(void **state)
{
	const char *msg = "bad \"thing\"\nsecond line \\ / \x01";
	char *line = ctl_reply_encode_error(msg);
	struct json_object *r;
	char err[CTL_ERR_MAX];
	size_t len;

	(void)state;
	assert_non_null(line);
	len = strlen(line);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	assert_int_equal(ctl_reply_parse(line, len - 1, &r, err, sizeof(err)), 1);
	assert_string_equal(err, msg);
	free(line);
}

static void test_reply_ok_encode(void **state)
{
	struct json_object *o = ctl_reply_new_ok();
	char *line;

	(void)state;
	assert_non_null(o);
	json_object_object_add(o, "path", json_object_new_string("/run/gpuvmd.sock"));
	line = ctl_reply_encode(o);
	assert_string_equal(line, "{\"ok\":true,\"path\":\"/run/gpuvmd.sock\"}\n");
	free(line);
	json_object_put(o);
}

static void test_info_json_roundtrip(void **state)
{
	struct vgpu_info in, out;
	struct json_object *o;
	char mode[CTL_MODE_MAX], err[CTL_ERR_MAX];

	(void)state;
	memset(&in, 0, sizeof(in));     /* padding too: the structs are compared whole */
	strcpy(in.name, "vm-7");
	in.id = 7;
	in.mode = VGPU_MODE_FULL;
	in.vram_size = 256 * MIB;
	in.vram_base = (UINT64_C(1) << 63) + 5;
	in.channels = 8;
	in.channels_bound = 3;
	in.attached = true;
	in.mmio_reads = 11;
	in.mmio_writes = 12;
	in.denied = 13;
	in.pte_rejected = 14;
	in.reshadows = 15;
	in.tlb_flushes = 16;
	in.submissions = 17;
	in.faults = UINT64_MAX;
	o = ctl_info_to_json(&in, "full");
	assert_non_null(o);
	assert_int_equal(ctl_info_from_json(o, &out, mode, sizeof(mode), err, sizeof(err)), 0);
	assert_string_equal(mode, "full");
	out.mode = in.mode;
	assert_memory_equal(&in, &out, sizeof(in));
	json_object_object_del(o, "denied");
	assert_int_equal(ctl_info_from_json(o, &out, mode, sizeof(mode), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'denied'"));
	json_object_object_add(o, "denied", json_object_new_string("13"));
	assert_int_equal(ctl_info_from_json(o, &out, mode, sizeof(mode), err, sizeof(err)), -1);
	json_object_put(o);
}

/* ---- Framing ---------------------------------------------------------------------- */

static void feed(struct ctl_linebuf *lb, const char *data, size_t len)
{
	while (len > 0) {
		size_t room;
		char *p = ctl_linebuf_space(lb, &room);
		size_t n = len < room ? len : room;

		assert_true(room > 0);
		memcpy(p, data, n);
		ctl_linebuf_commit(lb, n);
		data += n;
		len -= n;
		if (len > 0) {  /* full: the test must drain it as the server would */
			char *line;
			size_t l;

			assert_int_not_equal(ctl_linebuf_next(lb, &line, &l), CTL_LINE_OK);
		}
	}
}

static void expect_line(struct ctl_linebuf *lb, const char *want)
{
	char *line;
	size_t len;

	assert_int_equal(ctl_linebuf_next(lb, &line, &len), CTL_LINE_OK);
	assert_int_equal(len, strlen(want));
	assert_string_equal(line, want);
}

static void expect_status(struct ctl_linebuf *lb, enum ctl_line_status want)
{
	char *line;
	size_t len;

	assert_int_equal(ctl_linebuf_next(lb, &line, &len), want);
}

static void test_linebuf_split_and_join(void **state)
{
	static struct ctl_linebuf lb;

	(void)state;
	ctl_linebuf_init(&lb);
	expect_status(&lb, CTL_LINE_NONE);
	feed(&lb, "{\"op\":", 6);
	expect_status(&lb, CTL_LINE_NONE);
	assert_int_equal(ctl_linebuf_pending(&lb), 6);
	feed(&lb, "\"list\"}\nsecond\r\n\nthi", 20);
	expect_line(&lb, "{\"op\":\"list\"}");
	expect_line(&lb, "second");
	expect_line(&lb, "");
	expect_status(&lb, CTL_LINE_NONE);
	feed(&lb, "rd\n", 3);
	expect_line(&lb, "third");
	expect_status(&lb, CTL_LINE_NONE);
	assert_int_equal(ctl_linebuf_pending(&lb), 0);
}

/* CTL_MAX_LINE bytes are a request; one more is not, and is skipped, once. */
static void test_linebuf_limits(void **state)
{
	static struct ctl_linebuf lb;
	char *big = malloc(CTL_MAX_LINE + 2);

	(void)state;
	assert_non_null(big);
	ctl_linebuf_init(&lb);
	memset(big, 'a', CTL_MAX_LINE);
	big[CTL_MAX_LINE] = '\n';
	feed(&lb, big, CTL_MAX_LINE + 1);
	{
		char *line;
		size_t len;

		assert_int_equal(ctl_linebuf_next(&lb, &line, &len), CTL_LINE_OK);
		assert_int_equal(len, CTL_MAX_LINE);
	}
	memset(big, 'b', CTL_MAX_LINE + 1);
	feed(&lb, big, CTL_MAX_LINE + 1);
	expect_status(&lb, CTL_LINE_TOO_LONG);
	expect_status(&lb, CTL_LINE_NONE);
	/* The rest of the oversized line keeps coming, in pieces; still one report. */
	for (int i = 0; i < 5; i++) {
		feed(&lb, big, 1000);
		expect_status(&lb, CTL_LINE_NONE);
	}
	feed(&lb, "tail\nnext\n", 10);
	expect_line(&lb, "next");
	expect_status(&lb, CTL_LINE_NONE);
	free(big);
}

static void test_default_socket(void **state)
{
	(void)state;
	unsetenv(CTL_SOCKET_ENV);
	assert_string_equal(ctl_default_socket(), "/run/gpuvmd.sock");
	setenv(CTL_SOCKET_ENV, "", 1);
	assert_string_equal(ctl_default_socket(), "/run/gpuvmd.sock");
	setenv(CTL_SOCKET_ENV, "/tmp/x.sock", 1);
	assert_string_equal(ctl_default_socket(), "/tmp/x.sock");
	unsetenv(CTL_SOCKET_ENV);
}

static void test_client_connect_errors(void **state)
{
	char err[CTL_ERR_MAX];
	char longpath[200];

	(void)state;
	assert_int_equal(ctl_client_connect("/nonexistent/gpuvmd.sock", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is gpuvmd running?"));
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(ctl_client_connect(longpath, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_valid),
		cmocka_unit_test(test_parse_size_invalid),
		cmocka_unit_test(test_check_name),
		cmocka_unit_test(test_check_vram_and_channels),
		cmocka_unit_test(test_op_names),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_decode_accepts),
		cmocka_unit_test(test_request_decode_errors),
		cmocka_unit_test(test_request_decode_length),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_reply_error_roundtrip),
		cmocka_unit_test(test_reply_ok_encode),
		cmocka_unit_test(test_info_json_roundtrip),
		cmocka_unit_test(test_linebuf_split_and_join),
		cmocka_unit_test(test_linebuf_limits),
		cmocka_unit_test(test_default_socket),
		cmocka_unit_test(test_client_connect_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
