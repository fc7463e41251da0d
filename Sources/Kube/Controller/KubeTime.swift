import Foundation
import Synchronization

/// Timestamps as the API writes them: `Time` (`2006-01-02T15:04:05Z`) and `MicroTime`
/// (`2006-01-02T15:04:05.000000Z`), always in UTC.
public enum KubeTime {
    /// The formatters, made once: making an `ISO8601DateFormatter` builds ICU formatters, which
    /// cost far more than formatting or parsing one time (the Scheduler, reading every
    /// BackupSession's `scheduledTime` on each pass, spent most of its CPU there). A formatter is
    /// a class that is not `Sendable`, so each is used under its lock.
    private static let formatters = Mutex(Formatters())

    private struct Formatters {
        let time = formatter([.withInternetDateTime], timeZone: TimeZone(identifier: "UTC"))
        let whole = formatter([.withInternetDateTime])
        let fractional = formatter([.withInternetDateTime, .withFractionalSeconds])

        static func formatter(_ options: ISO8601DateFormatter.Options, timeZone: TimeZone? = nil) -> ISO8601DateFormatter {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let timeZone { formatter.timeZone = timeZone }
            return formatter
        }
    }

    /// Seconds precision, for `metav1.Time` fields such as an Event's `lastTimestamp`.
    public static func time(_ date: Date) -> String {
        formatters.withLock { $0.time.string(from: date) }
    }

    /// Reads an RFC 3339 time as the API writes it, with or without fractional seconds; nil if
    /// it is not one.
    public static func date(_ text: String) -> Date? {
        if let date = wholeSecondsUTC(text) { return date }
        return formatters.withLock { text.contains(".") ? $0.fractional.date(from: text) : $0.whole.date(from: text) }
    }

    /// `2006-01-02T15:04:05Z`, the form the API writes every `Time` in, read without a formatter
    /// (ICU parses one in tens of microseconds, which a scheduler reading every session's
    /// `scheduledTime` on every pass spends most of its time on); nil for any other form, or a
    /// date outside 1970-9999, which the formatter then reads.
    static func wholeSecondsUTC(_ text: String) -> Date? {
        var utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable { bytes -> Date? in
            guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
                  bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z") else { return nil }
            func number(_ start: Int, _ count: Int) -> Int? {
                var value = 0
                for byte in bytes[start..<(start + count)] {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                }
                return value
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
                  let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
                  (1970...9999).contains(year), (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return nil }
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            guard (1...monthDays).contains(day) else { return nil }
            // Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
            let y = month <= 2 ? year - 1 : year
            let era = y / 400
            let yearOfEra = y - era * 400
            let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            let days = era * 146_097 + dayOfEra - 719_468
            return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3_600 + minute * 60 + second))
        } ?? nil
    }

    /// Microsecond precision, for `metav1.MicroTime` fields such as a Lease's `renewTime`.
    public static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
        let whole = time(Date(timeIntervalSince1970: seconds))
        let fraction = String(micros + 1_000_000).dropFirst()  // six digits, zero-padded
        return whole.dropLast() + "." + fraction + "Z"
    }
}
