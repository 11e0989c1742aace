/*
 * Test rig for the gpusim ISA interpreter: a fake GPU address space over
 * host buffers (code read-only, data read-write, everything else unmapped),
 * constant banks, a fake clock and an abort flag, so tests can assemble a
 * kernel, run isa_execute() on it and inspect memory and the result.
 */
#ifndef TESTS_ISA_UTIL_RIG_H
#define TESTS_ISA_UTIL_RIG_H

#include <stdatomic.h>
#include <stdint.h>

#include "gpusim_isa.h"
#include "isa.h"

#define RIG_CODE_VA     0x40000ull          /* code region: read-only */
#define RIG_CODE_SIZE   0x10000u
#define RIG_DATA_VA     0x1fff00000ull      /* data region straddles the 4 GiB line... */
#define RIG_DATA_SIZE   (2u << 20)          /* ...so high halves of addresses matter */
#define RIG_CODE_CAP    4096u               /* instructions */
#define RIG_CBUF_SIZE   256u

struct rig {
	uint8_t *code_host;
	uint8_t *data_host;
	uint64_t code[RIG_CODE_CAP];
	struct isa_prog p;
	uint8_t cbuf[NV90C0_CB_BANKS][RIG_CBUF_SIZE];
	struct isa_launch l;
	struct isa_result res;
	atomic_int abort;
	unsigned code_resolves;      /* resolve() calls inside the code region */
	unsigned data_resolves;      /* resolve() calls inside the data region */
	unsigned clock_calls;
	uint64_t clock_now;          /* next clock_ns() value */
	uint64_t clock_step;         /* added after every clock_ns() call */
	int abort_on_clock;          /* clock_ns() sets the abort flag */
};

/* A new rig: zeroed memory, bank 0 bound (RIG_CBUF_SIZE bytes), 1x1x1 launch. */
struct rig *rig_new(void);
void rig_free(struct rig *r);

/* Copy the assembled program into the code region and run with these dimensions. */
enum isa_status rig_run(struct rig *r, uint32_t gx, uint32_t gy, uint32_t gz,
			uint32_t bx, uint32_t by, uint32_t bz);

/* Host view of data at a VA inside the data region. */
void *rig_data(struct rig *r, uint64_t va);
uint32_t rig_u32(struct rig *r, uint64_t va);
float rig_f32(struct rig *r, uint64_t va);
void rig_put_u32(struct rig *r, uint64_t va, uint32_t v);
void rig_put_f32(struct rig *r, uint64_t va, float v);

/* Constant bank contents. */
void rig_cb_u32(struct rig *r, unsigned bank, uint32_t off, uint32_t v);
void rig_cb_u64(struct rig *r, unsigned bank, uint32_t off, uint64_t v);

/* Emit "pair = c[0][off], c[0][off + 4]": a 64-bit kernel parameter. */
void rig_param64(struct rig *r, struct isa_reg pair, uint32_t off);

/* Emit the global thread index x: ctaid.x * ntid.x + tid.x into d (uses scratch). */
void rig_global_x(struct rig *r, struct isa_reg d, struct isa_reg scratch);

#endif
