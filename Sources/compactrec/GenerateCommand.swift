import ArgumentParser
import CompactRec

/// `compactrec generate` (being written).
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "(being written)")
    func run() async throws {}
}
