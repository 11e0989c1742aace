/*
 * M2MF (0x9039, subchannel 2): copies between GPU virtual addresses of the
 * channel.  As Gdev does, a copy is cut into 4 KiB lines, at most 2047 per
 * EXEC, plus one short line for the remainder.  The same engine fills
 * memory: a source pitch of 0 repeats one source page on every line.
 *
 * The methods are only queued; the caller kicks (and fences) them.
 */
#include "nvc0_driver.h"

#define LINE_BYTES      4096u
#define COPY_WORDS      14u      /* words one EXEC takes in the pushbuffer */

static int m2mf_exec(struct nvc0_channel *chan, uint64_t dst, uint64_t src, uint32_t pitch_in,
		     uint32_t line_len, uint32_t lines)
{
	const uint32_t out[2] = { (uint32_t)(dst >> 32) & 0xff, (uint32_t)dst };
	const uint32_t in[6] = {
		(uint32_t)(src >> 32) & 0xff, (uint32_t)src,
		pitch_in, LINE_BYTES,        /* PITCH_IN, PITCH_OUT */
		line_len, lines,             /* LINE_LENGTH_IN, LINE_COUNT */
	};

	if (nvc0_pb_room(chan) < COPY_WORDS) {
		int err = nvc0_pb_kick(chan);

		if (err)
			return err;
	}
	nvc0_pb_mthd_list(chan, NV_SUBC_M2MF, NV9039_OFFSET_OUT_HI, out, 2);
	nvc0_pb_mthd_list(chan, NV_SUBC_M2MF, NV9039_OFFSET_IN_HI, in, 6);
	nvc0_pb_mthd(chan, NV_SUBC_M2MF, NV9039_EXEC,
		     NV9039_EXEC_SRC_LINEAR | NV9039_EXEC_DST_LINEAR);
	return GPUVM_OK;
}

/* Queue lines of LINE_BYTES (src advancing by src_pitch) and a short tail. */
static int m2mf_lines(struct nvc0_channel *chan, uint64_t dst, uint64_t src, uint32_t src_pitch,
		      uint64_t len)
{
	uint64_t full = len / LINE_BYTES;
	uint32_t tail = (uint32_t)(len % LINE_BYTES);
	int err;

	while (full) {
		uint32_t lines = full > NV9039_MAX_LINES ? NV9039_MAX_LINES : (uint32_t)full;

		err = m2mf_exec(chan, dst, src, src_pitch, LINE_BYTES, lines);
		if (err)
			return err;
		dst += (uint64_t)lines * LINE_BYTES;
		src += (uint64_t)lines * src_pitch;
		full -= lines;
	}
	if (tail)
		return m2mf_exec(chan, dst, src, src_pitch, tail, 1);
	return GPUVM_OK;
}

int nvc0_m2mf_copy(struct nvc0_channel *chan, uint64_t dst, uint64_t src, uint64_t len)
{
	return m2mf_lines(chan, dst, src, LINE_BYTES, len);
}

int nvc0_m2mf_fill_page(struct nvc0_channel *chan, uint64_t dst, uint64_t src_page, uint64_t len)
{
	return m2mf_lines(chan, dst, src_page, 0, len);
}
