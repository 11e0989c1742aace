/*
 * gpusim compute interpreter: the boundary between the COMPUTE engine
 * (sim_compute.c, which decodes methods and owns translation) and the
 * interpreter of the gpusim ISA (isa_interp.c).  The instruction encoding
 * itself is public: include/gpusim_isa.h, documented in docs/gpusim-isa.md.
 */
#ifndef GPUSIM_ISA_INTERNAL_H
#define GPUSIM_ISA_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "nvc0/classes.h"

/*
 * Memory the interpreter reaches.  resolve() translates one GPU virtual
 * address for an access of size bytes (1, 4 or 8; the caller has checked
 * alignment) and returns a host pointer, or NULL on a fault (the fault is
 * already recorded by the engine; the interpreter must stop the launch).
 * A returned pointer is valid for every address in the same 4 KiB page with
 * the same direction until the interpreter finishes the current instruction
 * step; the interpreter may reuse it for other threads of that step and must
 * resolve again at the next step (so a TLB flush takes effect between steps).
 */
struct isa_mem {
	uint8_t *(*resolve)(void *ctx, uint64_t va, unsigned size, bool write);
	void *ctx;
};

struct isa_launch {
	uint64_t code_va;                       /* CODE_ADDRESS + CP_START_ID */
	uint32_t grid[3];                       /* blocks per dimension, each >= 1 */
	uint32_t block[3];                      /* threads per dimension, product <= 1024 */
	uint32_t shared_size;                   /* bytes of shared memory per block */
	const uint8_t *cbuf[NV90C0_CB_BANKS];   /* snapshots of bound constant buffers */
	uint32_t cbuf_size[NV90C0_CB_BANKS];    /* 0 = bank not bound */
	struct isa_mem mem;
	uint64_t (*clock_ns)(void);             /* PTIMER, for the clock special registers */
	const atomic_int *abort;                /* non-zero: stop soon (channel killed) */
};

enum isa_status {
	ISA_OK = 0,
	ISA_FAULT,          /* resolve() returned NULL */
	ISA_BAD_INSN,       /* undecodable instruction or register out of range */
	ISA_BAD_ACCESS,     /* misaligned access, constant/shared access out of bounds */
	ISA_ABORTED,        /* *abort became non-zero */
	ISA_BAD_LAUNCH,     /* zero/oversized grid or block, shared size too big */
};

struct isa_result {
	enum isa_status status;
	uint64_t thread_insns;   /* instructions executed, counted once per thread */
	uint64_t fault_va;       /* for ISA_FAULT and ISA_BAD_ACCESS */
	bool fault_write;
	uint32_t pc;             /* instruction index at the stop, for messages */
};

/* Run a whole grid.  Returns 0 on ISA_OK, -1 otherwise (details in *res). */
int isa_execute(const struct isa_launch *l, struct isa_result *res);

const char *isa_status_name(enum isa_status s);

#endif
