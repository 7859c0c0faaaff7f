#!/bin/sh
# /init of the Linux guest's initramfs (busybox): load virtio-net (modules of the Debian cloud
# kernel, in the dependency order build.ts wrote to /modules/order), configure eth0 like
# apps/udp-echo's default (10.0.2.15/24 via 10.0.2.2), then run the UDP echo server on port 7.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
for m in $(/bin/busybox cat /modules/order); do
  /bin/busybox insmod /modules/$m.ko || echo "init: insmod $m failed"
done
/bin/busybox ip link set lo up
/bin/busybox ip link set eth0 up
/bin/busybox ip addr add 10.0.2.15/24 dev eth0
/bin/busybox ip route add default via 10.0.2.2
echo "init: eth0 up"
exec /udp_echo_server
