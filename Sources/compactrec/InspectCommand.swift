import ArgumentParser
import CompactRec

/// `compactrec inspect` (being written).
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "(being written)")
    func run() async throws {}
}
