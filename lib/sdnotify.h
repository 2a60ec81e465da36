/* systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the socket
 * named by $NOTIFY_SOCKET. */
#ifndef RAMPART_LIB_SDNOTIFY_H
#define RAMPART_LIB_SDNOTIFY_H

/* Sends msg ("READY=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET. 0 when sent, 1 when there is
 * no $NOTIFY_SOCKET (not started by systemd with Type=notify: nothing to do), -1 with errno. */
int sdnotify_send(const char *msg);
/* RELOADING=1 with MONOTONIC_USEC=now (systemd 253's Type=notify-reload): a reload begins; send
 * READY=1 when it is done. Returns as sdnotify_send. */
int sdnotify_reloading(void);

#endif
