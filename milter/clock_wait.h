/*
 * clock_wait.h - timed waits on the monotonic clock, so a change of the
 * wall clock neither cuts a wait short nor stretches it.
 */
#ifndef MAIL2ALERT_CLOCK_WAIT_H
#define MAIL2ALERT_CLOCK_WAIT_H

#include <pthread.h>
#include <time.h>

/* Initialise cond to measure timed waits on CLOCK_MONOTONIC. */
void cond_init_monotonic(pthread_cond_t *cond);
/* The monotonic time seconds from now, for pthread_cond_timedwait. */
struct timespec deadline_in(long seconds);
/* The same, milliseconds from now. */
struct timespec deadline_in_ms(long ms);

#endif
