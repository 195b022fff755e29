import Testing

@testable import LoopWatchdog

@Suite struct TracerSuppressionTests {
    @Test func reportPolicyNeverAsksForTheTracer() {
        var suppression = TracerSuppression(policy: .report)
        let result1 = suppression.began(1, tracerPID: { Issue.record("asked"); return 42 })
        #expect(result1 == .report)
        let result2 = suppression.continuing(1, tracerPID: { Issue.record("asked"); return 42 })
        #expect(result2 == .report)
        let result3 = suppression.ended(1)
        #expect(result3 == .report)
    }

    @Test func untracedProcessReportsEverything() {
        var suppression = TracerSuppression(policy: .suppress)
        let result4 = suppression.began(1, tracerPID: { 0 })
        #expect(result4 == .report)
        let result5 = suppression.continuing(1, tracerPID: { 0 })
        #expect(result5 == .report)
        let result6 = suppression.ended(1)
        #expect(result6 == .report)
    }

    @Test func stallThatBeganTracedIsSuppressedWholeAndAnnouncedOnce() {
        var suppression = TracerSuppression(policy: .suppress)
        let result7 = suppression.began(1, tracerPID: { 99 })
        #expect(result7 == .suppressAndAnnounce(tracerPID: 99))
        let result8 = suppression.began(2, tracerPID: { 99 })
        #expect(result8 == .suppress)
        // Detached since: the stall that began traced stays suppressed to its end.
        let result9 = suppression.continuing(1, tracerPID: { 0 })
        #expect(result9 == .suppress)
        let result10 = suppression.ended(1)
        #expect(result10 == .suppress)
        let result11 = suppression.ended(2)
        #expect(result11 == .suppress)
        // A new stall after the tracer left is reported; a new tracer is announced again.
        let result12 = suppression.began(3, tracerPID: { 0 })
        #expect(result12 == .report)
        let result13 = suppression.began(4, tracerPID: { 99 })
        #expect(result13 == .suppressAndAnnounce(tracerPID: 99))
    }

    @Test func stallReportedBeforeATracerAttachedLosesItsContinuingButKeepsItsEnd() {
        var suppression = TracerSuppression(policy: .suppress)
        let result14 = suppression.began(1, tracerPID: { 0 })
        #expect(result14 == .report)
        let result15 = suppression.continuing(1, tracerPID: { 77 })
        #expect(result15 == .suppressAndAnnounce(tracerPID: 77))
        let result16 = suppression.continuing(1, tracerPID: { 77 })
        #expect(result16 == .suppress)
        let result17 = suppression.ended(1)
        #expect(result17 == .report)
    }
}
