/*
 * The layout of Xen's struct ioreq (public/hvm/ioreq.h) and its states, so
 * that the local trap backend's shared page carries requests exactly as an
 * ioreq server's shared page does.  The Xen backend uses Xen's own header.
 */
#ifndef XEN_IOREQ_LAYOUT_H
#define XEN_IOREQ_LAYOUT_H

#include <stdint.h>

#define GPUVM_IOREQ_READ            1
#define GPUVM_IOREQ_WRITE           0

#define GPUVM_STATE_IOREQ_NONE      0
#define GPUVM_STATE_IOREQ_READY     1
#define GPUVM_STATE_IOREQ_INPROCESS 2
#define GPUVM_STATE_IORESP_READY    3

#define GPUVM_IOREQ_TYPE_PIO        0
#define GPUVM_IOREQ_TYPE_COPY       1   /* MMIO */
#define GPUVM_IOREQ_TYPE_PCI_CONFIG 2

struct gpuvm_ioreq {
	uint64_t addr;          /* guest physical address */
	uint64_t data;          /* value, or (data_is_ptr) its address */
	uint32_t count;         /* rep count */
	uint32_t size;          /* bytes */
	uint32_t vp_eport;      /* event channel (unused locally) */
	uint16_t _pad0;
	uint8_t state:4;
	uint8_t data_is_ptr:1;
	uint8_t dir:1;          /* 1 read, 0 write */
	uint8_t df:1;
	uint8_t _pad1:1;
	uint8_t type;           /* GPUVM_IOREQ_TYPE_* */
};

_Static_assert(sizeof(struct gpuvm_ioreq) == 32, "struct ioreq is 32 bytes in Xen");

#endif
