/*
 * Fences and waiting.  A fence is a short semaphore release of an
 * increasing sequence number into the channel's fence page; the CPU reads
 * it back through BAR1.  Every wait is bounded and watches the channel:
 * when PFIFO stopped it (a VM fault, a bad method), the wait ends with
 * GPUVM_ERR_FAULTED and a message built from the fault record, and the
 * channel stays faulted (sticky) until it is destroyed.  A wait that times
 * out stops the channel for good, with the same sticky effect.
 */
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "nvc0_driver.h"

#define SPIN_NS         100000ull      /* poll without sleeping this long */
#define SLEEP_MIN_NS    2000ull
#define SLEEP_MAX_NS    500000ull
/* Look at the channel's state (a register read: a trap on a vGPU) 1 ms into
 * a wait, then at doubling intervals up to 16 ms: a fault is still seen
 * within 16 ms, and a long wait costs a few reads instead of one per ms. */
#define CHECK_FIRST_NS  1000000ull
#define CHECK_MAX_NS    16000000ull

static const char *const fault_reasons[] = {
	[NV_FAULT_PDE] = "page directory entry absent",
	[NV_FAULT_PTE] = "page not mapped",
	[NV_FAULT_RO] = "write to a read-only page",
	[NV_FAULT_LIMIT] = "beyond the address-space limit",
	[NV_FAULT_APERTURE] = "unreachable aperture",
	[NV_FAULT_ALIGN] = "misaligned access",
	[NV_FAULT_AUDIT] = "refused by the audit",
};

static const char *fault_reason_name(uint32_t r)
{
	if (r < sizeof(fault_reasons) / sizeof(fault_reasons[0]) && fault_reasons[r])
		return fault_reasons[r];
	return "unknown reason";
}

static const char *fault_unit_name(unsigned unit)
{
	switch (unit) {
	case NV_FAULT_UNIT_PGRAPH: return "PGRAPH (compute/M2MF)";
	case NV_FAULT_UNIT_BAR1: return "BAR1";
	case NV_FAULT_UNIT_BAR3: return "BAR3";
	case NV_FAULT_UNIT_PFIFO: return "PFIFO (fetch/semaphore)";
	case NV_FAULT_UNIT_PCOPY0: return "PCOPY0";
	}
	return "unit";
}

/* Find this channel's VM fault record, describe it and acknowledge it. */
static bool describe_vm_fault(struct nvc0_channel *chan)
{
	struct gpuvm_device *dev = chan->dev;
	uint32_t units = nvc0_rd32(dev, NV_PFIFO_FAULT_UNITS);

	for (unsigned u = 0; u < NV_FAULT_UNITS; u++) {
		uint32_t rec = NV_PFIFO_FAULT(u), flags, inst;
		uint64_t va;

		if (!(units & (1u << u)))
			continue;
		flags = nvc0_rd32(dev, rec + NV_FAULT_FLAGS);
		inst = nvc0_rd32(dev, rec + NV_FAULT_INST);
		if (!(flags & NV_FAULT_FLAGS_VALID) || inst != (uint32_t)(chan->inst.phys >> 12))
			continue;
		va = (uint64_t)nvc0_rd32(dev, rec + NV_FAULT_VA_HI) << 32 |
		     nvc0_rd32(dev, rec + NV_FAULT_VA_LO);
		snprintf(chan->fault_msg, sizeof(chan->fault_msg),
			 "channel %d: GPU VM fault in %s: %s at VA 0x%llx (%s)", chan->chid,
			 fault_unit_name(u), flags & NV_FAULT_FLAGS_WRITE ? "write" : "read",
			 (unsigned long long)va, fault_reason_name(NV_FAULT_FLAGS_REASON(flags)));
		nvc0_wr32(dev, NV_PFIFO_FAULT_UNITS, 1u << u);
		return true;
	}
	return false;
}

static bool describe_pbdma_error(struct nvc0_channel *chan)
{
	struct gpuvm_device *dev = chan->dev;
	uint32_t intr = nvc0_rd32(dev, NV_PBDMA_INTR);

	if (!intr || nvc0_rd32(dev, NV_PBDMA_ERR_CHID) != (uint32_t)chan->chid)
		return false;
	snprintf(chan->fault_msg, sizeof(chan->fault_msg),
		 "channel %d: stopped by PFIFO (%s%s%s), info 0x%08x", chan->chid,
		 intr & NV_PBDMA_INTR_GPFIFO ? "bad GPFIFO entry " : "",
		 intr & NV_PBDMA_INTR_METHOD ? "bad method or launch " : "",
		 intr & NV_PBDMA_INTR_OBJECT ? "unknown class " : "",
		 nvc0_rd32(dev, NV_PBDMA_ERR_INFO));
	return true;
}

int nvc0_channel_check(struct nvc0_channel *chan)
{
	uint32_t ctrl;

	if (chan->fault_err)
		return gpuvm_fail(chan->fault_err, "%s", chan->fault_msg);
	ctrl = nvc0_rd32(chan->dev, NV_PFIFO_CHAN_CTRL(chan->chid));
	if (ctrl == 0xffffffffu && chan->dev->tp->ops->check(chan->dev->tp))
		return gpuvm_fail(GPUVM_ERR_NO_DEVICE, "channel %d: lost the device", chan->chid);
	if (!(ctrl & NV_CHAN_CTRL_FAULTED))
		return GPUVM_OK;
	nvc0_lock(chan->dev);
	if (!describe_vm_fault(chan) && !describe_pbdma_error(chan))
		snprintf(chan->fault_msg, sizeof(chan->fault_msg),
			 "channel %d: stopped by the GPU (no fault record found)", chan->chid);
	nvc0_unlock(chan->dev);
	chan->fault_err = GPUVM_ERR_FAULTED;
	return gpuvm_fail(chan->fault_err, "%s", chan->fault_msg);
}

/*
 * The GPU did not finish our work in time.  The channel is killed (a kernel
 * still running is aborted) so that its memory can be freed safely, and the
 * context keeps the error.
 */
static int channel_timed_out(struct nvc0_channel *chan, const char *what)
{
	char msg[sizeof(chan->fault_msg)];

	snprintf(msg, sizeof(msg), "channel %d: timed out after %u ms waiting for %s; "
		 "channel stopped", chan->chid, chan->timeout_ms, what);
	nvc0_channel_kill(chan);
	memcpy(chan->fault_msg, msg, sizeof(msg));
	chan->fault_err = GPUVM_ERR_TIMEOUT;
	return gpuvm_fail(chan->fault_err, "%s", chan->fault_msg);
}

static void poll_pause(uint64_t waited_ns, uint64_t *sleep_ns)
{
	struct timespec ts;

	if (waited_ns < SPIN_NS) {
		sched_yield();
		return;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = (long)*sleep_ns;
	nanosleep(&ts, NULL);
	if (*sleep_ns < SLEEP_MAX_NS)
		*sleep_ns *= 2;
}

int nvc0_channel_poll(struct nvc0_channel *chan, bool (*done)(struct nvc0_channel *, void *),
		      void *arg, const char *what)
{
	uint64_t start = gpuvm_now_ns(), check_every = CHECK_FIRST_NS, next_check = start + check_every;
	uint64_t limit = (uint64_t)chan->timeout_ms * 1000000ull;
	uint64_t sleep_ns = SLEEP_MIN_NS;
	int err;

	if (chan->fault_err)
		return nvc0_channel_check(chan);
	for (;;) {
		uint64_t now;

		if (done(chan, arg))
			return GPUVM_OK;
		now = gpuvm_now_ns();
		if (now >= next_check) {
			err = nvc0_channel_check(chan);
			if (err)
				return err;
			if (check_every < CHECK_MAX_NS)
				check_every *= 2;
			next_check = now + check_every;
		}
		if (now - start > limit) {
			/* One last look: the work may have finished or faulted meanwhile. */
			if (done(chan, arg))
				return GPUVM_OK;
			err = nvc0_channel_check(chan);
			if (err)
				return err;
			return channel_timed_out(chan, what);
		}
		poll_pause(now - start, &sleep_ns);
	}
}

void nvc0_fence_emit(struct nvc0_channel *chan, uint32_t *seq)
{
	uint32_t s = chan->seq_emitted + 1;
	uint32_t m[4] = {
		(uint32_t)(chan->sem.va >> 32) & 0xff,
		(uint32_t)chan->sem.va,
		s,
		NV906F_SEM_RELEASE | NV906F_SEM_SHORT,
	};

	/* Written directly: the room for it is kept free by nvc0_pb_room(). */
	chan->cmd[chan->cmd_len++] = nv_pb_hdr(NV_PB_OP_INC, 0, NV906F_SEMAPHORE_HI, 4);
	memcpy(&chan->cmd[chan->cmd_len], m, sizeof(m));
	chan->cmd_len += 4;
	chan->seq_emitted = s;
	if (seq)
		*seq = s;
}

static bool fence_passed(struct nvc0_channel *chan, void *arg)
{
	uint32_t seq = *(const uint32_t *)arg;
	uint32_t val;

	if (nvc0_bar1_read(chan->dev, chan->sem.bar1, &val, 4))
		return false;
	if ((int32_t)(val - chan->seq_done) > 0)
		chan->seq_done = val;
	return (int32_t)(val - seq) >= 0;
}

int nvc0_fence_wait(struct nvc0_channel *chan, uint32_t seq)
{
	if ((int32_t)(chan->seq_done - seq) >= 0)
		return chan->fault_err ? nvc0_channel_check(chan) : GPUVM_OK;
	return nvc0_channel_poll(chan, fence_passed, &seq, "a fence");
}

int nvc0_channel_sync(struct nvc0_channel *chan)
{
	int err;

	if (chan->fault_err)
		return nvc0_channel_check(chan);
	err = nvc0_pb_kick(chan);   /* every kick ends with a fence */
	if (err)
		return err;
	return nvc0_fence_wait(chan, chan->seq_emitted);
}
