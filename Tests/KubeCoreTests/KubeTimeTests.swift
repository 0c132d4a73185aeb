import Foundation
import KubeCore
import Testing

@Suite struct KubeTimeTests {
    @Test func roundTripsTimeAndMicroTime() throws {
        let date = try #require(KubeTime.parse("2025-01-31T12:00:00Z"))
        #expect(date.timeIntervalSince1970 == 1_738_324_800)
        #expect(KubeTime.format(date) == "2025-01-31T12:00:00Z")
        let micro = try #require(KubeTime.parse("2025-01-31T12:00:00.123456Z"))
        #expect(KubeTime.formatMicro(micro) == "2025-01-31T12:00:00.123456Z")
        let offset = try #require(KubeTime.parse("2025-01-31T13:30:00+01:30"))
        #expect(offset == date)
        #expect(KubeTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(KubeTime.format(try #require(KubeTime.parse("2024-02-29T23:59:59Z"))) == "2024-02-29T23:59:59Z")
    }

    @Test func microTimeKeepsTheLastMicrosecond() throws {
        // Was `...09.654320Z`: the fraction went through a Double and was truncated.
        let text = "2026-01-02T03:04:09.654321Z"
        let instant = try #require(KubeTime.parseInstant(text))
        #expect(instant.nanoseconds == 654_321_000)
        #expect(KubeTime.formatMicro(instant) == text)
        let date = try #require(KubeTime.parse(text))
        #expect(KubeTime.formatMicro(date) == text)
        for micros in [0, 1, 999_999, 500_000, 100_001] {
            let t = KubeTime.Instant(seconds: 1_767_323_049, nanoseconds: micros * 1000)
            #expect(KubeTime.parseInstant(KubeTime.formatMicro(t)) == t)
            #expect(KubeTime.Instant(t.date) == t)
        }
    }

    @Test func fractionsAndOffsetsAreExact() throws {
        #expect(KubeTime.parseInstant("2025-01-31T12:00:00.5Z") == KubeTime.Instant(seconds: 1_738_324_800, nanoseconds: 500_000_000))
        // Nanoseconds are kept; MicroTime truncates them as Go does.
        let nanos = try #require(KubeTime.parseInstant("2025-01-31T12:00:00.123456789Z"))
        #expect(nanos.nanoseconds == 123_456_789)
        #expect(KubeTime.formatMicro(nanos) == "2025-01-31T12:00:00.123456Z")
        #expect(KubeTime.format(nanos) == "2025-01-31T12:00:00Z")
        #expect(KubeTime.parseInstant("2025-01-31T12:00:00.1234567891Z")?.nanoseconds == 123_456_789)
        #expect(KubeTime.parseInstant("2025-01-31T10:00:00.25-02:00") == KubeTime.parseInstant("2025-01-31T12:00:00.25Z"))
        // Before the epoch: seconds floor, the fraction stays positive.
        let early = KubeTime.Instant(seconds: 0, nanoseconds: -1000)
        #expect(early == KubeTime.Instant(seconds: -1, nanoseconds: 999_999_000))
        #expect(KubeTime.formatMicro(early) == "1969-12-31T23:59:59.999999Z")
    }

    @Test func rejectsMalformedTimestamps() {
        for bad in [
            "yesterday", "2025-13-01T00:00:00Z", "2025-01-32T00:00:00Z", "2025-01-31T24:00:00Z", "2025-01-31T12:00:00",
            "2025-01-31T12:00:00.Z", "2025-01-31 12:00:00Z", "2025-01-31T12:00:00+0100", "2025-01-31T12:00:00Zjunk",
        ] {
            #expect(KubeTime.parseInstant(bad) == nil, "\(bad)")
        }
    }

    @Test func ageColumn() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        func age(_ seconds: Double) -> String { KubeTime.age(since: now.addingTimeInterval(-seconds), now: now) }
        #expect(age(45) == "45s")
        #expect(age(200) == "3m20s")
        #expect(age(5 * 3600) == "5h")
        #expect(age(51 * 3600) == "2d3h")
        #expect(age(-10) == "<invalid>")
    }
}
