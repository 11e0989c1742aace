/*
 * COMPUTE (0x90c0, subchannel 1): object binding and kernel launches.
 *
 * Parameters go into constant bank GPUVM_PARAM_BANK through CB_POS/CB_DATA
 * in the pushbuffer, so they travel in order with the launch; LAUNCH
 * snapshots the bound buffers, so the next launch may rewrite the same
 * buffer without waiting for this one.
 */
#include "nvc0_driver.h"

/* Bind the classes a compute context uses, as Gdev does. */
/* Queued only: the channel's first submission carries the binding, as it
 * must precede any other method, and a new channel costs no submission. */
int nvc0_compute_bind(struct nvc0_channel *chan)
{
	nvc0_pb_mthd(chan, NV_SUBC_COMPUTE, NV906F_SET_OBJECT, NV_CLASS_COMPUTE);
	nvc0_pb_mthd(chan, NV_SUBC_M2MF, NV906F_SET_OBJECT, NV_CLASS_M2MF);
	return GPUVM_OK;
}

static void compute_params(struct nvc0_channel *chan, const struct nvc0_launch *l)
{
	const uint32_t cb[3] = {
		l->cb_size, (uint32_t)(l->cb_va >> 32) & 0xff, (uint32_t)l->cb_va,
	};

	nvc0_pb_mthd_list(chan, NV_SUBC_COMPUTE, NV90C0_CB_SIZE, cb, 3);
	if (l->param_words) {
		nvc0_pb_mthd(chan, NV_SUBC_COMPUTE, NV90C0_CB_POS, 0);
		nvc0_pb_mthd_noninc(chan, NV_SUBC_COMPUTE, NV90C0_CB_DATA(0), l->params,
				    l->param_words);
	}
	nvc0_pb_mthd(chan, NV_SUBC_COMPUTE, NV90C0_CB_BIND,
		     GPUVM_PARAM_BANK << 8 | NV90C0_CB_BIND_VALID);
}

static void compute_dims(struct nvc0_channel *chan, const struct nvc0_launch *l)
{
	const uint32_t grid[2] = { l->grid[1] << 16 | l->grid[0], l->grid[2] };
	const uint32_t block[3] = { l->block[1] << 16 | l->block[0], l->block[2], l->entry_offset };

	nvc0_pb_mthd_list(chan, NV_SUBC_COMPUTE, NV90C0_GRIDDIM_YX, grid, 2);
	nvc0_pb_mthd(chan, NV_SUBC_COMPUTE, NV90C0_SHARED_SIZE, l->shared_bytes);
	/* BLOCKDIM_YX, BLOCKDIM_Z and CP_START_ID are consecutive methods. */
	nvc0_pb_mthd_list(chan, NV_SUBC_COMPUTE, NV90C0_BLOCKDIM_YX, block, 3);
}

int nvc0_compute_launch(struct nvc0_channel *chan, const struct nvc0_launch *l)
{
	const uint32_t code[2] = { (uint32_t)(l->code_va >> 32) & 0xff, (uint32_t)l->code_va };
	uint32_t need = l->param_words + 40;

	if (need > nvc0_pb_room(chan)) {
		int err = nvc0_pb_kick(chan);

		if (err)
			return err;
	}
	compute_params(chan, l);
	nvc0_pb_mthd_list(chan, NV_SUBC_COMPUTE, NV90C0_CODE_ADDRESS_HI, code, 2);
	compute_dims(chan, l);
	nvc0_pb_mthd(chan, NV_SUBC_COMPUTE, NV90C0_LAUNCH, 0);
	return nvc0_pb_kick(chan);
}
