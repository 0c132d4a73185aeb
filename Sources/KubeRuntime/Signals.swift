import UnixSignals

/// SIGTERM/SIGINT handling shared by every executable: the first signal asks for a graceful stop
/// (see docs/reliability.md). Creating the value traps the signals at once, so a signal that
/// arrives before anyone waits is not lost and no longer kills the process.
public struct TerminationSignals: Sendable {
    private let sequence: UnixSignalsSequence

    /// Traps SIGTERM and SIGINT from now on.
    public init() async {
        sequence = await UnixSignalsSequence(trapping: .sigterm, .sigint)
    }

    /// Suspends until SIGTERM or SIGINT arrives (true) or the waiting task is cancelled (false).
    @discardableResult
    public func wait() async -> Bool {
        for await _ in sequence { return true }
        return false
    }

    /// Traps SIGTERM and SIGINT and suspends until one arrives (or the task is cancelled).
    public static func wait() async {
        await TerminationSignals().wait()
    }
}
