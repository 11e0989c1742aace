/*
 * A minimal control thread for running the local backend's listener
 * without gpuvmd: a thread that polls the fds the listener watches and
 * calls local_listener_fd_ready() for them, and runs other control-thread
 * work (vGPU lifecycle calls, the detach hook) on request.  For tests and
 * benchmarks, which supply their own vGPUs through struct local_host_ops;
 * gpuvmd uses its own poll loop (local_backend.c).
 */
#ifndef GPUVM_LOCAL_LOOP_H
#define GPUVM_LOCAL_LOOP_H

#include "local_listener.h"

struct local_loop;

/* 0 or a negative errno. */
int local_loop_start(struct local_loop **out);
/* Stop and join the thread (watched fds are not closed). */
void local_loop_stop(struct local_loop *lp);
/* For local_host_ops.watch/unwatch: any thread. */
int local_loop_watch(struct local_loop *lp, int fd, struct local_listener *l);
void local_loop_unwatch(struct local_loop *lp, int fd);
/* Run fn(arg) on the loop's thread and wait for it to return. */
void local_loop_call(struct local_loop *lp, void (*fn)(void *arg), void *arg);
/* True when called from the loop's thread. */
int local_loop_on_thread(struct local_loop *lp);

#endif
