/*
 * The local backend's wire protocol: layouts, the ioreq control word,
 * address decoding and the request-validation table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpuvm_local.h"
#include "local_listener.h"
#include "local_server.h"
#include "nvc0/regs.h"

static const uint64_t sizes[4] = { NV_BAR0_SIZE, 256ull << 20, 0, 16ull << 20 };

static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct gpuvm_ioreq), 32);
	assert_int_equal(sizeof(struct gpuvm_local_hello), 48);
	assert_int_equal(sizeof(struct gpuvm_local_page), 4096);
	assert_int_equal(offsetof(struct gpuvm_local_page, req), 0);
	assert_int_equal(offsetof(struct gpuvm_local_page, server_sleeping), 64);
	assert_int_equal(offsetof(struct gpuvm_local_page, guest_sleeping), 128);
	assert_int_equal(offsetof(struct gpuvm_local_reply, nfds) % 4, 0);
	assert_int_equal(offsetof(struct gpuvm_local_reply, bar_base) % 8, 0);
	assert_int_equal(offsetof(struct gpuvm_local_reply, part) % 8, 0);
	/* The fd array fits one SCM_RIGHTS message (the kernel's limit is 253). */
	assert_true(GPUVM_LOCAL_FD_MAX <= 253);
}

/* The bit positions other clients rely on (docs/local-backend.md). */
static void test_ctl_word_bits(void **state)
{
	struct gpuvm_ioreq r;
	uint8_t b;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state = 0xa;
	r.data_is_ptr = 1;
	r.dir = 1;
	r.type = GPUVM_IOREQ_TYPE_COPY;
	r.vp_eport = 0x11223344;
	memcpy(&b, (char *)&r + 30, 1);
	assert_int_equal(b, 0xa | 1 << 4 | 1 << 5);
	assert_int_equal(gpuvm_local_ctl_word(&r),
			 0x11223344ull | (uint64_t)(0xa | 1 << 4 | 1 << 5) << 48 |
			 (uint64_t)GPUVM_IOREQ_TYPE_COPY << 56);
}

static void test_ctl_state_roundtrip(void **state)
{
	(void)state;
	for (unsigned s = 0; s < 16; s++) {
		struct gpuvm_ioreq r, back;
		uint64_t w[4], ctl;

		memset(&r, 0, sizeof(r));
		r.addr = 0x100000040ull;
		r.data = 0x1234;
		r.count = 1;
		r.size = 4;
		r.vp_eport = 7;
		r.state = s;
		r.dir = s & 1;
		r.df = 1;
		r.type = GPUVM_IOREQ_TYPE_COPY;
		ctl = gpuvm_local_ctl_word(&r);
		assert_int_equal(gpuvm_local_ctl_state(ctl), s);
		ctl = gpuvm_local_ctl_with_state(ctl, (s + 5) & 15);
		assert_int_equal(gpuvm_local_ctl_state(ctl), (s + 5) & 15);
		memcpy(w, &r, sizeof(w));
		w[3] = ctl;
		gpuvm_local_req_from_words(&back, w);
		assert_int_equal(back.state, (s + 5) & 15);
		assert_int_equal(back.dir, s & 1);
		assert_int_equal(back.df, 1);
		assert_int_equal(back.type, GPUVM_IOREQ_TYPE_COPY);
		assert_int_equal(back.vp_eport, 7);
		assert_int_equal(back.addr, 0x100000040ull);
	}
}

static void test_bar_layout(void **state)
{
	(void)state;
	assert_int_equal(gpuvm_local_bar_base(0), GPUVM_LOCAL_BAR0_BASE);
	assert_int_equal(gpuvm_local_bar_base(1), GPUVM_LOCAL_BAR1_BASE);
	assert_int_equal(gpuvm_local_bar_base(2), 0);
	assert_int_equal(gpuvm_local_bar_base(3), GPUVM_LOCAL_BAR3_BASE);
	assert_int_equal(gpuvm_local_bar_base(4), 0);
	assert_int_equal(GPUVM_LOCAL_BAR1_BASE - GPUVM_LOCAL_BAR0_BASE, GPUVM_LOCAL_BAR_WINDOW);
	assert_int_equal(gpuvm_local_remap_index(1, 0, 100), 0);
	assert_int_equal(gpuvm_local_remap_index(1, 4095, 100), 0);
	assert_int_equal(gpuvm_local_remap_index(1, 4096 * 7 + 3, 100), 7);
	assert_int_equal(gpuvm_local_remap_index(3, 0, 100), 100);
	assert_int_equal(gpuvm_local_remap_index(3, 4096 * 2, 100), 102);
}

static struct gpuvm_ioreq mkreq(uint64_t addr, uint32_t size, unsigned dir, uint64_t data)
{
	struct gpuvm_ioreq r;

	memset(&r, 0, sizeof(r));
	r.addr = addr;
	r.size = size;
	r.count = 1;
	r.dir = dir;
	r.data = data;
	r.type = GPUVM_IOREQ_TYPE_COPY;
	r.state = GPUVM_STATE_IOREQ_READY;
	return r;
}

static void test_decode_ok(void **state)
{
	struct gpuvm_ioreq r;
	struct vgpu_io io;

	(void)state;
	r = mkreq(GPUVM_LOCAL_BAR0_BASE + 0x1700, 4, GPUVM_IOREQ_READ, 0xdead);
	assert_int_equal(local_ioreq_decode(&r, sizes, &io), LOCAL_IO_OK);
	assert_int_equal(io.bar, 0);
	assert_int_equal(io.offset, 0x1700);
	assert_int_equal(io.size, 4);
	assert_int_equal(io.dir, VGPU_IO_READ);
	assert_int_equal(io.data, 0);   /* a read carries no data in */

	r = mkreq(GPUVM_LOCAL_BAR0_BASE + 0x10, 2, GPUVM_IOREQ_WRITE, 0x12345678);
	assert_int_equal(local_ioreq_decode(&r, sizes, &io), LOCAL_IO_OK);
	assert_int_equal(io.dir, VGPU_IO_WRITE);
	assert_int_equal(io.data, 0x5678);      /* masked to the size */

	r = mkreq(GPUVM_LOCAL_BAR0_BASE + 0x11, 1, GPUVM_IOREQ_WRITE, 0xffff);
	assert_int_equal(local_ioreq_decode(&r, sizes, &io), LOCAL_IO_OK);
	assert_int_equal(io.data, 0xff);

	r = mkreq(GPUVM_LOCAL_BAR1_BASE + (256ull << 20) - 8, 8, GPUVM_IOREQ_WRITE, ~0ull);
	assert_int_equal(local_ioreq_decode(&r, sizes, &io), LOCAL_IO_OK);
	assert_int_equal(io.bar, 1);
	assert_int_equal(io.offset, (256ull << 20) - 8);
	assert_int_equal(io.data, ~0ull);

	r = mkreq(GPUVM_LOCAL_BAR3_BASE + 0x2000, 4, GPUVM_IOREQ_READ, 0);
	assert_int_equal(local_ioreq_decode(&r, sizes, &io), LOCAL_IO_OK);
	assert_int_equal(io.bar, 3);
	assert_int_equal(io.offset, 0x2000);

	/* Unaligned but inside one page: passed on (the vGPU decides). */
	r = mkreq(GPUVM_LOCAL_BAR1_BASE + 0x1ffa, 4, GPUVM_IOREQ_READ, 0);
	assert_int_equal(local_ioreq_decode(&r, sizes, &io), LOCAL_IO_OK);
	assert_int_equal(io.offset, 0x1ffa);
}

struct bad_case {
	const char *what;
	uint64_t addr;
	uint32_t size;
	uint32_t count;
	unsigned type;
	unsigned ptr;
	enum local_deny want;
};

static void test_decode_table(void **state)
{
	static const struct bad_case cases[] = {
		{ "size 0", GPUVM_LOCAL_BAR0_BASE, 0, 1, 1, 0, LOCAL_DENY_SIZE },
		{ "size 3", GPUVM_LOCAL_BAR0_BASE, 3, 1, 1, 0, LOCAL_DENY_SIZE },
		{ "size 16", GPUVM_LOCAL_BAR0_BASE, 16, 1, 1, 0, LOCAL_DENY_SIZE },
		{ "size huge", GPUVM_LOCAL_BAR0_BASE, 0xffffffffu, 1, 1, 0, LOCAL_DENY_SIZE },
		{ "rep count 0", GPUVM_LOCAL_BAR0_BASE, 4, 0, 1, 0, LOCAL_DENY_COUNT },
		{ "rep count 2", GPUVM_LOCAL_BAR0_BASE, 4, 2, 1, 0, LOCAL_DENY_COUNT },
		{ "rep count max", GPUVM_LOCAL_BAR0_BASE, 4, 0xffffffffu, 1, 0, LOCAL_DENY_COUNT },
		{ "data_is_ptr", GPUVM_LOCAL_BAR0_BASE, 4, 1, 1, 1, LOCAL_DENY_PTR },
		{ "PIO", GPUVM_LOCAL_BAR0_BASE, 4, 1, GPUVM_IOREQ_TYPE_PIO, 0, LOCAL_DENY_TYPE },
		{ "PCI config", GPUVM_LOCAL_BAR0_BASE, 4, 1, GPUVM_IOREQ_TYPE_PCI_CONFIG, 0,
		  LOCAL_DENY_TYPE },
		{ "type 200", GPUVM_LOCAL_BAR0_BASE, 4, 1, 200, 0, LOCAL_DENY_TYPE },
		{ "address 0", 0, 4, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "below BAR0", GPUVM_LOCAL_BAR0_BASE - 4, 4, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "past BAR0", GPUVM_LOCAL_BAR0_BASE + NV_BAR0_SIZE, 4, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "straddles BAR0 end", GPUVM_LOCAL_BAR0_BASE + NV_BAR0_SIZE - 2, 4, 1, 1, 0,
		  LOCAL_DENY_ADDR },
		{ "BAR2 (none)", 0x280000000ull, 4, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "past BAR1", GPUVM_LOCAL_BAR1_BASE + (256ull << 20), 4, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "past BAR3", GPUVM_LOCAL_BAR3_BASE + (16ull << 20), 8, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "top of space", ~0ull - 3, 4, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "wraps", ~0ull, 8, 1, 1, 0, LOCAL_DENY_ADDR },
		{ "crosses a page", GPUVM_LOCAL_BAR0_BASE + 0xffe, 4, 1, 1, 0, LOCAL_DENY_CROSS },
		{ "crosses a BAR1 page", GPUVM_LOCAL_BAR1_BASE + 0x1ffc, 8, 1, 1, 0, LOCAL_DENY_CROSS },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct gpuvm_ioreq r = mkreq(c->addr, c->size, GPUVM_IOREQ_READ, 0);
		struct vgpu_io io = { .bar = 0x55, .data = 0x77 };
		enum local_deny got;

		r.count = c->count;
		r.type = c->type;
		r.data_is_ptr = c->ptr;
		got = local_ioreq_decode(&r, sizes, &io);
		if (got != c->want)
			fail_msg("%s: got %s, want %s", c->what, local_deny_name(got),
				 local_deny_name(c->want));
		assert_int_equal(io.bar, 0x55);         /* untouched on denial */
		assert_int_equal(io.data, 0x77);
	}
}

static void test_decode_small_bars(void **state)
{
	const uint64_t none[4] = { NV_BAR0_SIZE, 0, 0, 0 };
	const uint64_t huge[4] = { ~0ull, ~0ull, ~0ull, ~0ull };
	struct gpuvm_ioreq r = mkreq(GPUVM_LOCAL_BAR1_BASE, 4, GPUVM_IOREQ_READ, 0);
	struct vgpu_io io;

	(void)state;
	/* A BAR of size 0 does not decode. */
	assert_int_equal(local_ioreq_decode(&r, none, &io), LOCAL_DENY_ADDR);
	/* Sizes larger than the window are clamped to it: BAR0 never reaches BAR1. */
	r = mkreq(GPUVM_LOCAL_BAR1_BASE - 4, 4, GPUVM_IOREQ_READ, 0);
	assert_int_equal(local_ioreq_decode(&r, huge, &io), LOCAL_IO_OK);
	assert_int_equal(io.bar, 0);
	r = mkreq(GPUVM_LOCAL_BAR1_BASE - 4, 8, GPUVM_IOREQ_READ, 0);
	assert_int_equal(local_ioreq_decode(&r, huge, &io), LOCAL_DENY_ADDR);
}

static void test_deny_value(void **state)
{
	(void)state;
	assert_int_equal(local_deny_value(1), 0xff);
	assert_int_equal(local_deny_value(2), 0xffff);
	assert_int_equal(local_deny_value(4), 0xffffffffull);
	assert_int_equal(local_deny_value(8), ~0ull);
	assert_int_equal(local_deny_value(0), ~0ull);
	assert_int_equal(local_deny_value(3), ~0ull);
	assert_int_equal(local_deny_value(1000), ~0ull);
}

static void test_names(void **state)
{
	char full[32];

	(void)state;
	assert_true(local_name_valid("vm0", 32));
	assert_true(local_name_valid("A-b_c.9", 32));
	assert_false(local_name_valid("", 32));
	assert_false(local_name_valid("a b", 32));
	assert_false(local_name_valid("a/b", 32));
	assert_false(local_name_valid("caf\xc3\xa9", 32));
	memset(full, 'a', sizeof(full));        /* no NUL within 32 bytes */
	assert_false(local_name_valid(full, sizeof(full)));
	full[31] = 0;
	assert_true(local_name_valid(full, sizeof(full)));
}

static void test_socket_path(void **state)
{
	char p[108];

	(void)state;
	unsetenv(GPUVM_LOCAL_SOCKET_ENV);
	gpuvm_local_socket_path(NULL, p, sizeof(p));
	assert_string_equal(p, GPUVM_LOCAL_DEFAULT_SOCKET);
	setenv(GPUVM_LOCAL_SOCKET_ENV, "/tmp/x.sock", 1);
	gpuvm_local_socket_path("", p, sizeof(p));
	assert_string_equal(p, "/tmp/x.sock.guest");
	gpuvm_local_socket_path("/other/g.sock", p, sizeof(p));
	assert_string_equal(p, "/other/g.sock");
	unsetenv(GPUVM_LOCAL_SOCKET_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_ctl_word_bits),
		cmocka_unit_test(test_ctl_state_roundtrip),
		cmocka_unit_test(test_bar_layout),
		cmocka_unit_test(test_decode_ok),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_small_bars),
		cmocka_unit_test(test_deny_value),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_socket_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
