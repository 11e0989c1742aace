/*
 * NVC0 object classes and the methods of each that gpuvm uses.
 * Method numbers are byte offsets as in a pushbuffer header (nv_pb_hdr).
 */
#ifndef NVC0_CLASSES_H
#define NVC0_CLASSES_H

#define NV_CLASS_CHANNEL_GPFIFO 0x906f
#define NV_CLASS_M2MF           0x9039
#define NV_CLASS_COMPUTE        0x90c0
#define NV_CLASS_PCOPY          0x90b5

/* Subchannels as a Gdev-style compute driver binds them. */
#define NV_SUBC_COMPUTE         1
#define NV_SUBC_M2MF            2
#define NV_SUBC_PCOPY           3

/* ---- Host methods (channel class, any subchannel, below 0x100) ------------ */
#define NV906F_SET_OBJECT       0x0000
#define NV906F_NOP              0x0008
#define NV906F_SEMAPHORE_HI     0x0010
#define NV906F_SEMAPHORE_LO     0x0014
#define NV906F_SEMAPHORE_SEQ    0x0018
#define NV906F_SEMAPHORE_TRIG   0x001c
#define   NV906F_SEM_ACQUIRE_EQ     0x1u
#define   NV906F_SEM_RELEASE        0x2u
#define   NV906F_SEM_ACQUIRE_GEQ    0x4u    /* (int32)(mem - seq) >= 0 */
#define   NV906F_SEM_ACQUIRE_AND    0x8u    /* (mem & seq) != 0 */
#define   NV906F_SEM_YIELD          (1u << 12)
#define   NV906F_SEM_SHORT          (1u << 24)
#define NV906F_NOTIFY_INTR      0x0020
#define NV906F_REF_CNT          0x0050
#define NV906F_HOST_METHOD_END  0x0100
/* A long release writes {seq, 0, ptimer lo, ptimer hi}: 16 bytes. */
#define NV_SEM_LONG_SIZE        16

/* ---- M2MF 0x9039 ------------------------------------------------------------ */
#define NV9039_OFFSET_OUT_HI    0x0238
#define NV9039_OFFSET_OUT_LO    0x023c
#define NV9039_EXEC             0x0300
#define   NV9039_EXEC_PUSH          (1u << 0)
#define   NV9039_EXEC_SRC_LINEAR    (1u << 4)
#define   NV9039_EXEC_DST_LINEAR    (1u << 8)
#define   NV9039_EXEC_QUERY_MASK    (3u << 12)
#define   NV9039_EXEC_QUERY_WRITE   (2u << 12)
#define   NV9039_EXEC_QUERY_SHORT   (1u << 20)
#define NV9039_DATA             0x0304  /* inline data after EXEC with PUSH */
#define NV9039_OFFSET_IN_HI     0x030c
#define NV9039_OFFSET_IN_LO     0x0310
#define NV9039_PITCH_IN         0x0314
#define NV9039_PITCH_OUT        0x0318
#define NV9039_LINE_LENGTH_IN   0x031c
#define NV9039_LINE_COUNT       0x0320
#define NV9039_QUERY_HI         0x032c
#define NV9039_QUERY_LO         0x0330
#define NV9039_QUERY_SEQ        0x0334
#define NV9039_MAX_LINES        2047

/* ---- PCOPY 0x90b5 (gpusim's layout; see docs/gpusim.md) -------------------- */
#define NV90B5_SEMAPHORE_HI     0x0240
#define NV90B5_SEMAPHORE_LO     0x0244
#define NV90B5_SEMAPHORE_SEQ    0x0248
#define NV90B5_LAUNCH           0x0300
#define   NV90B5_LAUNCH_SEM_SHORT   (1u << 0)   /* release SEQ (4 bytes) when done */
#define   NV90B5_LAUNCH_SEM_LONG    (1u << 1)   /* release {SEQ, 0, timestamp} when done */
#define   NV90B5_LAUNCH_SRC_LINEAR  (1u << 4)
#define   NV90B5_LAUNCH_DST_LINEAR  (1u << 8)
#define NV90B5_OFFSET_IN_HI     0x030c
#define NV90B5_OFFSET_IN_LO     0x0310
#define NV90B5_OFFSET_OUT_HI    0x0314
#define NV90B5_OFFSET_OUT_LO    0x0318
#define NV90B5_PITCH_IN         0x031c
#define NV90B5_PITCH_OUT        0x0320
#define NV90B5_LINE_LENGTH_IN   0x0324
#define NV90B5_LINE_COUNT       0x0328

/* ---- COMPUTE 0x90c0 ----------------------------------------------------------- */
#define NV90C0_GRIDDIM_YX       0x0238  /* y << 16 | x */
#define NV90C0_GRIDDIM_Z        0x023c
#define NV90C0_SHARED_SIZE      0x024c
#define NV90C0_LAUNCH           0x0368
#define NV90C0_BLOCKDIM_YX      0x03ac  /* y << 16 | x */
#define NV90C0_BLOCKDIM_Z       0x03b0
#define NV90C0_CP_START_ID      0x03b4  /* entry: byte offset from CODE_ADDRESS */
#define NV90C0_CODE_ADDRESS_HI  0x1608
#define NV90C0_CODE_ADDRESS_LO  0x160c
#define NV90C0_CB_BIND          0x1694  /* index << 8 | valid */
#define   NV90C0_CB_BIND_VALID      (1u << 0)
#define   NV90C0_CB_BIND_INDEX(v)   (((v) >> 8) & 0xf)
#define NV90C0_FLUSH            0x1698
#define NV90C0_QUERY_HI         0x1b00
#define NV90C0_QUERY_LO         0x1b04
#define NV90C0_QUERY_SEQ        0x1b08
#define NV90C0_QUERY_GET        0x1b0c
#define   NV90C0_QUERY_GET_SHORT    (1u << 28)  /* 4-byte release, else 16 bytes */
#define NV90C0_CB_SIZE          0x2380
#define NV90C0_CB_ADDRESS_HI    0x2384
#define NV90C0_CB_ADDRESS_LO    0x2388
#define NV90C0_CB_POS           0x238c
#define NV90C0_CB_DATA(i)       (0x2390 + (i) * 4) /* i < 16; each write stores at POS, POS += 4 */
#define NV90C0_CB_BANKS         16
#define NV90C0_CB_MAX_SIZE      0x10000
#define NV90C0_MAX_BLOCK_THREADS 1024
#define NV90C0_MAX_SHARED       0xc000

#endif
