/*
 * Pushbuffer and GPFIFO submission.  Methods are collected in host memory
 * as one segment; nvc0_pb_kick() copies the segment into the pushbuffer
 * through BAR1, appends a GPFIFO entry pointing at it and rings the
 * doorbell by writing GP_PUT in USERD through BAR1 (the only submission
 * path, so a hypervisor sees every submission at that one write).
 *
 * The pushbuffer is a ring reused from offset 0 when a segment would not
 * fit at the end.  It is reused only once PFIFO has fetched every GPFIFO
 * entry (GP_GET == GP_PUT): the segment still being executed then lies in
 * the tail of the ring, out of reach of the new one, because a segment is
 * at most a quarter of the ring.
 *
 * Every segment ends with a fence release, so the channel's last emitted
 * sequence number always covers everything submitted.
 */
#include "nvc0_driver.h"

_Static_assert(NVC0_SEGMENT_WORDS * 4 * 4 <= NVC0_PUSHBUF_SIZE,
	       "a segment must fit four times in the pushbuffer ring");

#define GP_ENTRIES (1u << NVC0_GPFIFO_ORDER)

/* Room for methods; the fence that ends every segment is kept out of it. */
static uint32_t pb_capacity(void)
{
	return NVC0_SEGMENT_WORDS - NVC0_FENCE_WORDS;
}

static bool pb_reserve(struct nvc0_channel *chan, uint32_t words)
{
	if (chan->cmd_overflow || words > pb_capacity() - chan->cmd_len) {
		chan->cmd_overflow = true;
		return false;
	}
	return true;
}

static void pb_methods(struct nvc0_channel *chan, uint32_t op, unsigned subc, uint32_t mthd,
		       const uint32_t *data, uint32_t n)
{
	if (!n || n > 0x1fff || !pb_reserve(chan, n + 1)) {
		chan->cmd_overflow = true;
		return;
	}
	chan->cmd[chan->cmd_len++] = nv_pb_hdr(op, subc, mthd, n);
	memcpy(&chan->cmd[chan->cmd_len], data, n * sizeof(uint32_t));
	chan->cmd_len += n;
}

void nvc0_pb_mthd(struct nvc0_channel *chan, unsigned subc, uint32_t mthd, uint32_t data)
{
	pb_methods(chan, NV_PB_OP_INC, subc, mthd, &data, 1);
}

void nvc0_pb_mthd_list(struct nvc0_channel *chan, unsigned subc, uint32_t mthd,
		       const uint32_t *data, uint32_t n)
{
	pb_methods(chan, NV_PB_OP_INC, subc, mthd, data, n);
}

void nvc0_pb_mthd_noninc(struct nvc0_channel *chan, unsigned subc, uint32_t mthd,
			 const uint32_t *data, uint32_t n)
{
	pb_methods(chan, NV_PB_OP_NONINC, subc, mthd, data, n);
}

uint32_t nvc0_pb_room(const struct nvc0_channel *chan)
{
	return chan->cmd_overflow ? 0 : pb_capacity() - chan->cmd_len;
}

void nvc0_pb_discard(struct nvc0_channel *chan)
{
	chan->cmd_len = 0;
	chan->cmd_overflow = false;
}

static int pb_read_gp_get(struct nvc0_channel *chan, uint32_t *get)
{
	return nvc0_bar1_read(chan->dev, chan->userd_bar1 + NV_USERD_GP_GET, get, 4);
}

static bool pb_ring_drained(struct nvc0_channel *chan, void *arg)
{
	uint32_t get;

	GPUVM_UNUSED(arg);
	return !pb_read_gp_get(chan, &get) && get == chan->gp_put;
}

static bool pb_ring_full(const struct nvc0_channel *chan)
{
	return ((chan->gp_put + 1) & (GP_ENTRIES - 1)) == chan->gp_get_seen;
}

static bool pb_ring_has_slot(struct nvc0_channel *chan, void *arg)
{
	GPUVM_UNUSED(arg);
	return !pb_read_gp_get(chan, &chan->gp_get_seen) && !pb_ring_full(chan);
}

/* Where the next segment of bytes goes, waiting for PFIFO when the ring wraps. */
static int pb_place(struct nvc0_channel *chan, uint32_t bytes)
{
	int err;

	if (chan->pb_put + bytes > NVC0_PUSHBUF_SIZE) {
		err = nvc0_channel_poll(chan, pb_ring_drained, NULL, "pushbuffer space");
		if (err)
			return err;
		chan->pb_put = 0;
	}
	/* GP_GET is read only when the ring looks full by the last value seen. */
	if (!pb_ring_full(chan))
		return GPUVM_OK;
	return nvc0_channel_poll(chan, pb_ring_has_slot, NULL, "a free GPFIFO entry");
}

int nvc0_pb_kick(struct nvc0_channel *chan)
{
	uint64_t seg_va;
	uint32_t entry[2];
	uint32_t put, bytes, seq_before = chan->seq_emitted;
	int err;

	if (chan->cmd_overflow) {
		nvc0_pb_discard(chan);
		return gpuvm_fail(GPUVM_ERR_INVALID, "submission larger than a %u-word segment",
				  NVC0_SEGMENT_WORDS);
	}
	if (!chan->cmd_len)
		return GPUVM_OK;
	if (chan->fault_err) {
		nvc0_pb_discard(chan);
		return nvc0_channel_check(chan);
	}
	/* Every segment ends with a fence: seq_emitted always covers all submitted work. */
	nvc0_fence_emit(chan, NULL);
	bytes = chan->cmd_len * 4;
	err = chan->ops->before_kick(chan);
	if (!err)
		err = pb_place(chan, bytes);
	if (err)
		goto out;
	seg_va = chan->pushbuf.va + chan->pb_put;
	err = nvc0_bar1_write(chan->dev, chan->pushbuf.bar1 + chan->pb_put, chan->cmd, bytes);
	if (err)
		goto out;
	nv_gp_entry(entry, seg_va, chan->cmd_len);
	err = nvc0_bar1_write(chan->dev, chan->gpfifo.bar1 + (uint64_t)chan->gp_put * 8, entry, 8);
	if (err)
		goto out;
	chan->pb_put += bytes;
	put = (chan->gp_put + 1) & (GP_ENTRIES - 1);
	/* The doorbell. */
	if (chan->ops->submit)
		err = chan->ops->submit(chan, put);
	else
		err = nvc0_bar1_write(chan->dev, chan->userd_bar1 + NV_USERD_GP_PUT, &put, 4);
	if (!err)
		chan->gp_put = put;
out:
	if (err)   /* not submitted: its fence will never signal */
		chan->seq_emitted = seq_before;
	nvc0_pb_discard(chan);
	return err;
}
