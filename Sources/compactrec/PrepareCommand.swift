import ArgumentParser
import CompactRec

/// `compactrec prepare` (being written).
struct PrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prepare", abstract: "(being written)")
    func run() async throws {}
}
