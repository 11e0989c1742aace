/*
 * gpuvm-hostile: a misbehaving guest, for end-to-end isolation tests on a
 * real hypervisor (tests/xen, scenario "hostile").  With a context of its
 * own open it
 *
 *   1. writes the channel table entries of channel ids it was not given
 *      (every id a neighbour's physical channel could have) and reads them
 *      back: a vGPU must deny them (reads 0);
 *   2. puts every channel id 0..127 and junk ids on its runlist and preempts
 *      foreign ids;
 *   3. aims the PRAMIN window past its VRAM, writes a pattern there and
 *      reads it back: the writes must vanish (reads 0);
 *   4. reads BAR1 where it mapped nothing;
 *   5. runs a vector add on a new context, which must still work.
 *
 * Each step prints one line; exit status 0 when every attack was refused and
 * the guest's own work still runs, 1 when an attack got through or the
 * vGPU stopped working, 2 on bad usage.  Whether the other guests were
 * touched is for the host to judge (isolation checker, gpusim audit, the
 * other guests' verified results).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuvm_guest.h"
#include "gpuvm_raw.h"
#include "gpuvm_workloads.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"

#define PATTERN 0x0badf00du

static int failures;

static void verdict(const char *step, int ok, const char *detail)
{
	printf("hostile: %-22s %s%s%s\n", step, ok ? "refused" : "GOT THROUGH",
	       detail ? ": " : "", detail ? detail : "");
	if (!ok)
		failures++;
}

/* 1: channel-table entries of ids above the vGPU's own channels. */
static void attack_channel_table(struct gpuvm_device *dev, uint64_t inst)
{
	unsigned through = 0, first = 0;
	char detail[96];

	/* Our own channels are the low ids; from 64 up none is ours on any vGPU. */
	for (unsigned ch = 64; ch < NV_PFIFO_CHANNELS; ch++) {
		gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_INST(ch), NV_CHAN_INST_VALID | (uint32_t)(inst >> 12));
		gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_CTRL(ch), NV_CHAN_CTRL_RUNNABLE);
		if (gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_INST(ch)) ||
		    gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_CTRL(ch))) {
			if (!through++)
				first = ch;
		}
	}
	if (through)
		snprintf(detail, sizeof(detail), "ids 64..127, %u read back (first %u)", through, first);
	else
		snprintf(detail, sizeof(detail), "ids 64..127, none read back");
	verdict("foreign channel ids", through == 0, detail);
}

/* 2: a runlist naming every id and junk, then preempts of foreign ids. */
static void attack_runlist(struct gpuvm_device *dev, uint64_t vram)
{
	uint32_t e[2 * (NV_PFIFO_CHANNELS + 2)];
	uint32_t reg = gpuvm_raw_rd32(dev, NV_PFIFO_RUNLIST_BASE);
	uint64_t base = (uint64_t)(reg & NV_CHAN_INST_ADDR_MASK) << 12;
	unsigned n = 0;
	uint32_t saved[2 * (NV_PFIFO_CHANNELS + 2)];

	if (!base || base + sizeof(e) > vram) {
		verdict("runlist", 0, "no runlist of its own to abuse");
		return;
	}
	for (unsigned ch = 0; ch < NV_PFIFO_CHANNELS; ch++, n++) {
		e[2 * n] = ch;
		e[2 * n + 1] = NV_RUNLIST_ENTRY_WORD1;
	}
	e[2 * n] = 0xffffffffu, e[2 * n + 1] = NV_RUNLIST_ENTRY_WORD1, n++;
	e[2 * n] = 0x8000ffffu, e[2 * n + 1] = NV_RUNLIST_ENTRY_WORD1, n++;
	if (gpuvm_raw_vram_read(dev, base, saved, sizeof(saved)) ||
	    gpuvm_raw_vram_write(dev, base, e, n * NV_RUNLIST_ENTRY_SIZE)) {
		verdict("runlist", 0, "cannot write its own runlist memory");
		return;
	}
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_SUBMIT, n);
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_BASE, (uint32_t)((vram + (1u << 20)) >> 12));
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_SUBMIT, 16);
	for (unsigned ch = 64; ch < NV_PFIFO_CHANNELS; ch += 9)
		gpuvm_raw_wr32(dev, NV_PFIFO_PREEMPT, ch);
	/* Put the driver's own list back, so step 5 can run. */
	gpuvm_raw_vram_write(dev, base, saved, sizeof(saved));
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_BASE, reg);
	printf("hostile: %-22s sent (ids 0..127 and junk; the host's checks judge)\n",
	       "runlist and preempt");
}

/* 3: the PRAMIN window past the partition: writes vanish, reads give 0. */
static void attack_pramin(struct gpuvm_device *dev, uint64_t vram)
{
	static const uint64_t past[] = { 0, 1u << 20, 64u << 20, 512u << 20 };
	uint32_t saved = gpuvm_raw_rd32(dev, NV_PBUS_PRAMIN_BASE);
	unsigned through = 0;
	char detail[96];

	for (unsigned i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
		uint64_t addr = vram + past[i];

		gpuvm_raw_wr32(dev, NV_PBUS_PRAMIN_BASE, (uint32_t)(addr >> NV_PBUS_PRAMIN_SHIFT));
		for (uint32_t off = 0; off < 0x1000; off += 0x400)
			gpuvm_raw_wr32(dev, NV_PRAMIN_WINDOW + off, PATTERN);
		for (uint32_t off = 0; off < 0x1000; off += 0x400)
			through += gpuvm_raw_rd32(dev, NV_PRAMIN_WINDOW + off) != 0;
	}
	gpuvm_raw_wr32(dev, NV_PBUS_PRAMIN_BASE, saved);
	snprintf(detail, sizeof(detail), "4 windows past %" PRIu64 " MiB, %u words read back",
		 vram >> 20, through);
	verdict("PRAMIN past its VRAM", through == 0, detail);
}

/*
 * 4: BAR1 where the guest mapped nothing: a fault or all ones (a bus error),
 * never data -- not even a 0, which could be somebody's memory.
 */
static void attack_bar1(struct gpuvm_device *dev)
{
	uint64_t size = gpuvm_raw_bar_size(dev, GPUVM_BAR1);
	uint32_t word = 0;
	int rc = gpuvm_raw_bar_read(dev, GPUVM_BAR1, size - 4096, &word, sizeof(word));
	char detail[64];

	if (rc != GPUVM_OK)
		snprintf(detail, sizeof(detail), "faulted");
	else
		snprintf(detail, sizeof(detail), "read 0x%08x", word);
	verdict("unmapped BAR1 page", rc != GPUVM_OK || word == 0xffffffffu, detail);
}

/*
 * 5: the guest's own work once it behaves, on a new context (the attacked
 * one may rightly carry a sticky fault from step 4).
 */
static void own_work(const char *spec)
{
	const struct gpuvm_workload *wl = gpuvm_workload_find("vadd");
	struct gpuvm_workload_params p = { .size = 1024 };
	struct gpuvm_workload_result r = { 0 };
	struct gpuvm_ctx *ctx;
	int rc = gpuvm_ctx_open(spec, NULL, &ctx);

	if (rc == GPUVM_OK) {
		rc = wl ? wl->run(ctx, &p, &r) : GPUVM_ERR_INVALID;
		gpuvm_ctx_destroy(ctx);
	}
	printf("hostile: own vadd afterwards: %s%s\n", rc == GPUVM_OK ? "verified" : "FAILED: ",
	       rc == GPUVM_OK ? "" : gpuvm_last_error());
	if (rc != GPUVM_OK)
		failures++;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: gpuvm-hostile [--device SPEC]\n"
		"Attack the vGPU from inside a guest (foreign channel ids, runlist, PRAMIN\n"
		"past its VRAM, unmapped BAR1) and check each attack was refused.\n"
		"Exit status: 0 all refused and own work verified, 1 otherwise, 2 bad usage.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = NULL;
	struct gpuvm_ctx *ctx;
	struct gpuvm_ctx_layout lay;
	uint64_t vram;
	int c;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		if (c == 'd') {
			spec = optarg;
		} else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (gpuvm_ctx_open(spec, NULL, &ctx) != GPUVM_OK) {
		fprintf(stderr, "gpuvm-hostile: %s\n", gpuvm_last_error());
		return 1;
	}
	if (gpuvm_raw_ctx_layout(ctx, &lay) != GPUVM_OK) {
		fprintf(stderr, "gpuvm-hostile: %s\n", gpuvm_last_error());
		gpuvm_ctx_destroy(ctx);
		return 1;
	}
	vram = gpuvm_raw_vram_size(gpuvm_ctx_device(ctx));
	printf("hostile: channel %d, %" PRIu64 " MiB of VRAM\n", lay.chid, vram >> 20);
	attack_channel_table(gpuvm_ctx_device(ctx), lay.inst);
	attack_runlist(gpuvm_ctx_device(ctx), vram);
	attack_pramin(gpuvm_ctx_device(ctx), vram);
	attack_bar1(gpuvm_ctx_device(ctx));
	gpuvm_ctx_destroy(ctx);
	own_work(spec);
	printf("hostile: %s\n", failures ? "some attacks got through" : "every attack refused");
	return failures ? 1 : 0;
}
