/**
 * The shell scripts a bootable KVM guest runs *inside the guest* (busybox sh): they are openem's own text, built
 * from numbers and the guest's name checked by the caller, and never run on the host.
 */

/** The line a guest prints on its serial console once it has booted, written its heartbeat and synced. */
export const GUEST_UP_MARKER = 'OPENEM-GUEST-UP';
/** The line it prints when it shuts down (ACPI power button or `poweroff`), before its root goes read-only. */
export const GUEST_DOWN_MARKER = 'OPENEM-GUEST-DOWN';

/**
 * The initramfs's /init: loads the virtio and ACPI modules (in dependency order), waits for the root disk and
 * switches to it. The kernel opens no console when the initramfs has no /dev/console, so init takes devtmpfs's.
 */
export function initramfsInit(modules: readonly string[]): string {
  return `#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
exec 0</dev/console 1>/dev/console 2>&1
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
${modules.map((m) => `/bin/busybox insmod /lib/modules/${m}`).join('\n')}
n=0
while [ ! -b /dev/vda ]; do
  n=$((n + 1))
  if [ $n -gt 600 ]; then echo "openem initramfs: no /dev/vda"; exec /bin/busybox sh; fi
  /bin/busybox usleep 100000
done
/bin/busybox mount -t ext4 -o rw,noatime /dev/vda /newroot || exec /bin/busybox sh
/bin/busybox umount /proc
/bin/busybox umount /sys
/bin/busybox mount --move /dev /newroot/dev
exec /bin/busybox switch_root /newroot /sbin/init
`;
}

/** busybox init's table: rcS at boot, rcK at shutdown (busybox init runs it on poweroff/reboot, then remounts read-only). */
export const INITTAB = `::sysinit:/etc/init.d/rcS
::shutdown:/etc/init.d/rcK
::shutdown:/bin/umount -a -r
`;

export interface GuestBehaviour {
  name: string;
  /** From the second boot on, each boot writes /data/boot-<n>.bin of this many MiB of random bytes. */
  changeMiBPerBoot: number;
  /** When > 0, the guest rewrites its heartbeat (a beat counter) every this many seconds and syncs. */
  heartbeatSeconds: number;
}

/**
 * The guest's boot: counts the boot in /var/heartbeat (`boot=<n> beat=<m>`), and prints on ttyS0 what it found
 * before it changed anything (the previous heartbeat, a hash of /data) and the hash of /data after, so a test
 * sees from the console alone which state the disk was in when the guest booted.
 */
export function rcS(b: GuestBehaviour): string {
  return `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs run /run
hostname ${b.name}
# The power button works from before the marker on. busybox acpid ran the button's action only with -d (in the
# foreground, its log on the console: "acpid: PWRF/00000080"), not daemonized nor with -f alone.
acpid -d -f >/dev/ttyS0 2>&1 &
# The guest agent, when built in, on its virtio port (no udev here to make /dev/virtio-ports/<name>).
if [ -x /usr/sbin/qemu-ga ]; then
  for p in /sys/class/virtio-ports/*; do
    if [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ]; then
      /usr/sbin/qemu-ga -m virtio-serial -p "/dev/\${p##*/}" -t /run -f /run/qemu-ga.pid >/dev/null 2>&1 &
    fi
  done
fi
datahash() { find /data -type f | sort | while read -r f; do sha256sum "$f"; done | sha256sum | cut -d' ' -f1; }
found="$(head -n 1 /var/heartbeat 2>/dev/null)"
[ -n "$found" ] || found=none
before="$(datahash)"
last="$(echo "$found" | sed -n 's/^boot=\\([0-9]*\\).*/\\1/p')"
boot=$(( \${last:-0} + 1 ))
echo "boot=$boot beat=0" > /var/heartbeat.new
mv /var/heartbeat.new /var/heartbeat
if [ $boot -ge 2 ] && [ ${b.changeMiBPerBoot} -gt 0 ]; then
  dd if=/dev/urandom of=/data/boot-$boot.bin bs=1048576 count=${b.changeMiBPerBoot} conv=fsync 2>/dev/null
fi
sync
after="$(datahash)"
echo "${GUEST_UP_MARKER} name=${b.name} boot=$boot found=$(echo "$found" | tr ' ' ',') before=$before after=$after" > /dev/ttyS0
echo "$boot" > /run/boot
if [ ${b.heartbeatSeconds} -gt 0 ]; then
  ( beat=0; while sleep ${b.heartbeatSeconds}; do beat=$((beat + 1)); echo "boot=$boot beat=$beat" > /var/heartbeat.new; mv /var/heartbeat.new /var/heartbeat; sync; done ) &
fi
`;
}

/** Shutdown: says so on the console; busybox init then remounts the root read-only (INITTAB). */
export const RCK = `#!/bin/sh
sync
echo "${GUEST_DOWN_MARKER} boot=$(cat /run/boot 2>/dev/null)" > /dev/ttyS0
`;

/** busybox acpid runs /etc/acpi/<action> for an event; the power button's action is PWRF/00000080. */
export const POWER_BUTTON = `#!/bin/sh
poweroff
`;
