import Foundation

/// A small tmpfs, for a destination that fills up; only root (or a process with CAP_SYS_ADMIN) may mount one.
public enum Tmpfs {
    /// Why no tmpfs can be mounted here, or nil when one can.
    public static let unavailable: String? = {
        guard getuid() == 0 else { return "mounting a tmpfs needs root; the tests run as uid \(getuid())" }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tmpfs-probe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: probe) }  // best effort: an empty directory in /tmp
        do { try FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true) } catch { return "\(error)" }
        guard mount("tmpfs", probe.path, "tmpfs", 0, "size=1m") == 0 else {
            return "mount -t tmpfs was refused (errno \(errno)): this container may not mount file systems"
        }
        umount(probe.path)
        return nil
    }()

    /// Mounts a tmpfs of `size` (`2m`) on `directory` for the time `body` runs.
    public static func with<T>(_ directory: URL, size: String, _ body: () async throws -> T) async throws -> T {
        guard mount("tmpfs", directory.path, "tmpfs", 0, "size=\(size)") == 0 else {
            throw HarnessError(description: "mount tmpfs on \(directory.path) failed: errno \(errno)")
        }
        defer { umount2(directory.path, 2) }  // MNT_DETACH: even if restic left a file open
        return try await body()
    }

    /// Gives the tmpfs mounted on `directory` a new `size`, keeping what it holds.
    public static func resize(_ directory: URL, to size: String) throws {
        guard mount("tmpfs", directory.path, "tmpfs", UInt(MS_REMOUNT), "size=\(size)") == 0 else {
            throw HarnessError(description: "remounting the tmpfs on \(directory.path) with size=\(size) failed: errno \(errno)")
        }
    }
}
