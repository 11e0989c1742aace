/*
 * Hostile guests against the channel machinery, end to end: "evil" (8
 * channels) writes the channel table and the runlist with ids it does not
 * own, while "victim" keeps a secret and a live channel and "bystander"
 * runs a workload.
 *
 *   channel table  entries >= its channel count (up to 127, every id that
 *                  could be another VM's physical channel): denied, read
 *                  back as 0; instance blocks outside its partition: not
 *                  bound; a spare channel of its own bound to the address
 *                  where the victim keeps its instance block (which, for
 *                  evil, is its own memory): bound, harmless.
 *   runlist        every id 0..127 plus junk ids, a runlist base outside
 *                  the partition, a 4095-entry list running off its end:
 *                  foreign entries dropped, its own kept.
 *   preempt        of foreign ids: denied.
 *
 * With the bad state in place the victim still has its one channel, the
 * host's physical channel table checks clean, and afterwards the victim's
 * secret and the bystander's result are intact and evil's own context,
 * still on the runlist, works.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "util_e2e.h"
#include "util_eguest.h"

#define VRAM_MIB      64
#define EVIL_CHANNELS 8

static int setup(void **state)
{
	struct e2e_daemon *d = e2e_start();

	e2e_create(d, "evil", VRAM_MIB, EVIL_CHANNELS);
	e2e_create(d, "victim", VRAM_MIB, 8);
	e2e_create(d, "bystander", VRAM_MIB, 8);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	e2e_stop(*state);
	return 0;
}

static const unsigned foreign_ids[] = { EVIL_CHANNELS, EVIL_CHANNELS + 1, 31, 63, 64, 100, 126, 127 };
#define NFOREIGN (sizeof(foreign_ids) / sizeof(foreign_ids[0]))

struct runlist {
	uint32_t e[2 * 136];
	unsigned n;
};

static void rl_add(struct runlist *rl, uint32_t chid)
{
	rl->e[2 * rl->n] = chid;
	rl->e[2 * rl->n + 1] = NV_RUNLIST_ENTRY_WORD1;
	rl->n++;
}

static void rl_submit(struct e2e_io *io, struct gpuvm_device *dev, uint64_t base, const struct runlist *rl)
{
	EG_OK(io, gpuvm_raw_vram_write(dev, base, rl->e, rl->n * NV_RUNLIST_ENTRY_SIZE));
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_BASE, (uint32_t)(base >> 12));
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_SUBMIT, rl->n);
}

static int fifo_attacker(struct e2e_io *io, void *arg)
{
	struct gpuvm_ctx *ctx;
	struct gpuvm_device *dev;
	struct gpuvm_ctx_layout lay;
	struct runlist rl = { .n = 0 };
	uint64_t victim_inst, size, rl_base;
	uint32_t rl_reg;
	unsigned spare, outside1, outside2;
	const char *line;

	(void)arg;
	line = e2e_hear(io);
	if (sscanf(line, "victim-inst %" SCNx64, &victim_inst) != 1)
		e2e_die(io, __FILE__, __LINE__, "bad line '%s'", line);
	ctx = eg_ctx(io);
	dev = eg_dev(ctx);
	/* Work before the attack: the spare channel below aliases this one's
	 * instance block, hence its USERD, and a channel that never ran would
	 * then share its first doorbell with the spare (evil's own loss only). */
	EG_OK(io, eg_workload(ctx, "vadd", 1024));
	EG_OK(io, gpuvm_raw_ctx_layout(ctx, &lay));
	size = gpuvm_raw_vram_size(dev);
	E2E_CHECK(io, lay.chid >= 0 && lay.chid < EVIL_CHANNELS - 3, "unexpected channel id %d", lay.chid);
	spare = EVIL_CHANNELS - 1;
	outside1 = EVIL_CHANNELS - 2;
	outside2 = EVIL_CHANNELS - 3;

	/* 1. Channel-table entries it does not have: every write denied, reads 0. */
	for (unsigned i = 0; i < NFOREIGN; i++) {
		unsigned ch = foreign_ids[i];

		gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_INST(ch), NV_CHAN_INST_VALID | (uint32_t)(lay.inst >> 12));
		gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_CTRL(ch), NV_CHAN_CTRL_RUNNABLE);
		E2E_CHECK(io, gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_INST(ch)) == 0, "channel %u: instance reads back", ch);
		E2E_CHECK(io, gpuvm_raw_rd32(dev, NV_PFIFO_CHAN_CTRL(ch)) == 0, "channel %u: control reads back", ch);
	}

	/* 2. Its own channels on instance blocks outside the partition: not bound. */
	gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_INST(outside1),
		       NV_CHAN_INST_VALID | (uint32_t)((size + 0x10000) >> 12));
	gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_INST(outside2), NV_CHAN_INST_VALID | NV_CHAN_INST_ADDR_MASK);
	gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_CTRL(outside1), NV_CHAN_CTRL_RUNNABLE);

	/* 3. A spare channel on the victim's instance-block address (its own memory here). */
	gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_INST(spare), NV_CHAN_INST_VALID | (uint32_t)(victim_inst >> 12));
	gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_CTRL(spare), NV_CHAN_CTRL_RUNNABLE);

	/* 4. Runlists: every id, junk ids; then a base outside; then one running off the end. */
	rl_reg = gpuvm_raw_rd32(dev, NV_PFIFO_RUNLIST_BASE);
	rl_base = (uint64_t)(rl_reg & NV_CHAN_INST_ADDR_MASK) << 12;
	E2E_CHECK(io, rl_base && rl_base < size, "runlist base 0x%" PRIx64 " not in VRAM", rl_base);
	for (unsigned ch = 0; ch < NV_PFIFO_CHANNELS; ch++)
		rl_add(&rl, ch);
	rl_add(&rl, 0xffff);
	rl_add(&rl, 0x80000000u | (unsigned)lay.chid);
	rl_add(&rl, 0xffffffffu);
	rl_add(&rl, (unsigned)lay.chid + NV_PFIFO_CHANNELS);
	rl_submit(io, dev, rl_base, &rl);
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_BASE, (uint32_t)((size + 0x100000) >> 12));
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_SUBMIT, 16);
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_BASE, (uint32_t)((size - 0x1000) >> 12));
	gpuvm_raw_wr32(dev, NV_PFIFO_RUNLIST_SUBMIT, 0xfff);
	/* Back to a list of its own channel and the spare. */
	rl.n = 0;
	rl_add(&rl, (uint32_t)lay.chid);
	rl_add(&rl, spare);
	for (unsigned i = 0; i < NFOREIGN; i++)
		rl_add(&rl, foreign_ids[i]);
	rl_submit(io, dev, rl_base, &rl);

	/* 5. Preempt of channels it does not have. */
	gpuvm_raw_wr32(dev, NV_PFIFO_PREEMPT, 100);
	gpuvm_raw_wr32(dev, NV_PFIFO_PREEMPT, EVIL_CHANNELS);

	e2e_say(io, "attacked chid %d spare %u", lay.chid, spare);
	e2e_hear_exact(io, "finish");

	/* Its own channel is still listed and works; the driver keeps its runlist. */
	EG_OK(io, eg_workload(ctx, "vadd", 65536));
	gpuvm_raw_wr32(dev, NV_PFIFO_CHAN_INST(spare), 0);
	EG_OK(io, eg_workload(ctx, "madd", 64));
	EG_OK(io, gpuvm_ctx_destroy(ctx));
	e2e_say(io, "recovered");
	return 0;
}

static bool one_channel(const struct e2e_info *in, void *arg)
{
	(void)arg;
	return in->channels_bound == 1;
}

static void test_foreign_channel_ids(void **state)
{
	struct e2e_daemon *d = *state;
	struct e2e_proc *keeper, *bystander, *evil;
	struct e2e_info evil_in, in;
	uint64_t inst;
	char *line;

	keeper = e2e_fork(d, "victim", "keeper", eg_keeper, NULL);
	line = e2e_expect(keeper, "secret");
	assert_int_equal(sscanf(line, "%*x %" SCNx64, &inst), 1);
	free(line);
	e2e_wait_info(d, "victim", one_channel, NULL, "the victim's one channel");
	bystander = e2e_run(d, "bystander", "mmul", "128", 2, 0);

	evil = e2e_fork(d, "evil", "fifo-attacker", fifo_attacker, NULL);
	e2e_send(evil, "victim-inst %" PRIx64, inst);
	free(e2e_expect(evil, "attacked"));

	/* The bad state is in place: evil has its own channel and the spare,
	 * every foreign write was denied, the victim still has its channel. */
	e2e_info(d, "evil", &evil_in);
	assert_int_equal(evil_in.channels_bound, 2);
	/* 2 writes and 2 reads per foreign id, 128 - 8 + 4 runlist entries, 2 preempts at least. */
	assert_true(evil_in.denied >= 4 * NFOREIGN + (NV_PFIFO_CHANNELS - EVIL_CHANNELS) + 4 + 2);
	e2e_info(d, "victim", &in);
	assert_int_equal(in.channels_bound, 1);
	assert_int_equal(in.denied, 0);
	assert_int_equal(in.faults, 0);
	e2e_assert_isolated(d);

	e2e_send(evil, "finish");
	free(e2e_expect(evil, "recovered"));
	e2e_expect_exit(evil, 0);
	e2e_send(keeper, "verify");
	free(e2e_expect(keeper, "intact"));
	e2e_expect_exit(keeper, 0);
	e2e_expect_verified(bystander);
	e2e_wait_detached(d, "victim");
	e2e_wait_detached(d, "bystander");
	e2e_wait_detached(d, "evil");
	for (unsigned i = 0; i < 2; i++) {
		e2e_info(d, i ? "bystander" : "victim", &in);
		assert_int_equal(in.faults, 0);
		assert_int_equal(in.denied, 0);
	}
	e2e_assert_isolated(d);
	/* Evil's vGPU is clean for its next guest. */
	e2e_expect_verified(e2e_run(d, "evil", "vadd", "4099", 0, 0));
	e2e_assert_isolated(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_foreign_channel_ids, setup, teardown),
	};

	return cmocka_run_group_tests_name("e2e: hostile guests vs. channels", tests, NULL, NULL);
}
