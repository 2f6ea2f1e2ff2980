// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Committee} from "./Committee.sol";
import {Constitution} from "./Constitution.sol";
import {Staking} from "./Staking.sol";

/// @title ComputeMarket — provider bonds, jobs paid from escrow as work is delivered, disputes, failover
/// @notice The on-chain twin of the compute market of the one ledger (runtime/core/econ/market.ts, the
/// issue 13 plan's "Rules v1" and "Decisions by H-rules"): the same operations, the same checks in the
/// same order, the same custom error names as the TS tagged errors, the same integer arithmetic.
///
/// - Providers bond DAI (≥ market.minProviderBond), list the job kinds they serve, a price per unit and a
///   capacity (jobs at once). The bond answers for them: a no-show pays market.noShowPenalty of it to the
///   requester; a result a referee's re-execution refutes costs market.wrongResultSlash of it (the requester
///   compensated up to the refuted amount, the rest burnt).
/// - A requester posts a job and escrows its budget (units × max price per unit), assigns it to a provider
///   (whose price is locked), and pays as work is delivered: each delivery is a debit note, paid when the
///   requester confirms it or, after market.disputeWindow, when anyone settles it. A payment P pays the
///   provider P − fee, fee = P × market.protocolFee, through `Staking.payFee` (fees.burnFraction of it burnt,
///   the rest to the stakers), the path the Committee's epoch fees take.
/// - The requester or a referee (COMMITTEE_ROLE) disputes the pending notes while the newest is in its window;
///   the committee's verdict (`resolveDispute`, submitted by anyone) pays them or refutes them (the provider
///   slashed, excluded from the job, the job open again for another provider). A verdict takes effect only
///   when signed by validators holding ≥ 2/3 of the voting power of a Committee snapshot no older than the
///   newest one when the dispute opened, checked by `Committee.verifySignatures` against its own snapshot,
///   exactly as an epoch report's signatures are. The verdict digest (runtime/core/market/verdict.ts):
///   keccak256(abi.encode(keccak256("dai/market-verdict/v1"), consensusChainId, address(this), job,
///   providerRight, snapshotId, firstNote, lastNote, keccak256(abi.encodePacked(resultHashes)))) over the
///   frozen notes (ids firstNote..lastNote), so a verdict's signatures judge one dispute and cannot be replayed. A provider that delivers nothing for
///   market.noShowTimeout loses the job (`reclaimNoShow`). After the deadline anyone ends a job (`refund`):
///   what was delivered and undisputed is paid, the rest of the escrow returns to the requester.
///
/// Custody: this contract's token balance = Σ job escrows + Σ provider bonds, to the wei. Per job:
/// budget = paid + fees (burnt + to stakers) + returned + escrow. Penalties and slashes come out of bonds,
/// never out of a budget. Times are unix seconds (the Constitution's durations are ms: ÷ 1000, floored).
/// Parameters are read from the Constitution by key at each use (as Governance reads its own).
/// COMMITTEE_ROLE (opening a dispute besides the requester) is held by a contract, never an account with a
/// key: after `dai chain deploy` the Committee contract holds it and Governance holds DEFAULT_ADMIN_ROLE.
/// @dev Every external function validates everything before its first write (a refusal changes
/// nothing), writes, emits, and moves tokens last; all are nonReentrant.
contract ComputeMarket is AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    // ------------------------------------------------------------------ constants and types

    /// @notice May dispute any job's pending deliveries (a contract acting for the committee; verdicts need the committee's signatures instead).
    bytes32 public constant COMMITTEE_ROLE = keccak256("COMMITTEE_ROLE");
    /// @notice Domain tag of the verdict digest.
    bytes32 public constant VERDICT_TAG = keccak256("dai/market-verdict/v1");
    /// @notice Fixed-point one.
    uint256 public constant WAD = 1e18;
    /// @notice Most job kinds a provider may list; longest kind name (bytes).
    uint256 public constant MAX_KINDS = 16;
    uint256 public constant MAX_KIND_LENGTH = 64;
    /// @notice Largest capacity (jobs at once) a provider may declare.
    uint256 public constant MAX_CAPACITY = 1_000_000;

    bytes32 private constant K_MIN_BOND = keccak256("market.minProviderBond");
    bytes32 private constant K_FEE = keccak256("market.protocolFee");
    bytes32 private constant K_WINDOW = keccak256("market.disputeWindow");
    bytes32 private constant K_NOSHOW_TIMEOUT = keccak256("market.noShowTimeout");
    bytes32 private constant K_NOSHOW_PENALTY = keccak256("market.noShowPenalty");
    bytes32 private constant K_SLASH = keccak256("market.wrongResultSlash");
    bytes32 private constant K_VERIFY = keccak256("market.verificationRate");
    bytes32 private constant K_BURN = keccak256("fees.burnFraction");

    /// @notice A job's life (None: no such job). Settled and Expired are final.
    enum JobState {
        None,
        Open,
        Assigned,
        Disputed,
        Settled,
        Expired
    }

    /// @notice A debit note's life: paid once, or refuted by a referee and never paid.
    enum NoteState {
        None,
        Pending,
        Disputed,
        Paid,
        Refuted
    }

    /// @notice A provider (`exists` false: never registered).
    struct Provider {
        uint128 bond; // what is left of it (penalties and slashes take from it)
        uint128 penalized; // everything taken from it so far
        uint128 pricePerUnit;
        uint32 capacity;
        uint32 openJobs; // jobs assigned or disputed now
        uint48 registeredAt;
        bool retired;
        bool exists;
        string[] kinds;
    }

    /// @notice A delivery of `units` of a job's work (id = index + 1 within its job).
    struct Note {
        address provider;
        NoteState state;
        uint40 deliveredAt;
        uint128 units;
        uint128 pricePerUnit; // the job's locked price when delivered; amount = units × pricePerUnit
        bytes32 resultHash;
    }

    /// @notice A job: its budget in escrow, paid out as notes are delivered and accepted.
    struct Job {
        address requester;
        JobState state;
        uint40 deadline;
        uint40 postedAt;
        address provider; // assigned now; on a final job the last one; zero while open
        uint40 assignedAt;
        uint40 lastActivity; // assignment, last delivery or last verdict for the provider: the no-show clock
        uint128 units;
        uint128 maxPricePerUnit;
        uint128 pricePerUnit; // locked at assignment (0 while open)
        uint128 delivered; // units of notes not refuted
        uint128 paidUnits;
        uint128 budget;
        uint128 escrow;
        uint128 paid; // to providers, after fees
        uint128 feeBurnt;
        uint128 feeToStakers;
        uint128 returned; // escrow given back to the requester
        uint128 compensation; // paid to the requester out of bonds (not part of the budget)
        uint64 firstOpen; // notes before it are paid or refuted; from it on all pending (or all disputed)
        uint64 disputeSnapshot; // the Committee's newest snapshot when last disputed: a verdict's may not be older
        string kind;
        Note[] notes;
        address[] excluded; // providers refuted on this job
    }

    // ------------------------------------------------------------------ storage

    /// @notice The DAI token (escrows and bonds are held here).
    IERC20 public immutable token;
    /// @notice Where fees go (`payFee`: burnt in part, the rest to the stakers).
    Staking public immutable staking;
    /// @notice The Constitution whose values are the market's parameters.
    Constitution public immutable constitution;
    /// @notice The Committee whose snapshots verdicts are signed against.
    Committee public immutable committee;
    /// @notice Chain id of the consensus network whose validators sign verdicts (Staking's).
    uint256 public immutable consensusChainId;

    /// @notice Jobs posted so far (ids 1..jobCount).
    uint256 public jobCount;
    /// @notice Σ job escrows and Σ provider bonds (their sum is this contract's token balance).
    uint256 public totalEscrow;
    uint256 public totalBonds;

    mapping(address => Provider) private _providers;
    mapping(address => mapping(bytes32 => bool)) private _serves;
    address[] private _providerList;
    mapping(uint256 => Job) private _jobs;
    mapping(uint256 => bytes32) private _kindHash;

    // ------------------------------------------------------------------ events

    /// @notice A provider registered with `bond` for `kinds` at `pricePerUnit`, `capacity` jobs at once.
    event ProviderRegistered(address indexed provider, uint256 bond, string[] kinds, uint256 pricePerUnit, uint256 capacity);
    /// @notice A provider changed its offer.
    event ProviderUpdated(address indexed provider, uint256 pricePerUnit, uint256 capacity);
    /// @notice A provider added `amount` to its bond (now `bond`).
    event BondAdded(address indexed provider, uint256 amount, uint256 bond);
    /// @notice A provider retired (takes no new job).
    event ProviderRetired(address indexed provider);
    /// @notice A retired provider with no open job took back what was left of its bond.
    event BondWithdrawn(address indexed provider, uint256 amount);
    /// @notice A job was posted and its budget escrowed.
    event JobPosted(uint256 indexed job, address indexed requester, string kind, uint256 units, uint256 maxPricePerUnit, uint256 budget, uint64 deadline);
    /// @notice A job was assigned to a provider at its price.
    event JobAssigned(uint256 indexed job, address indexed provider, uint256 pricePerUnit);
    /// @notice A provider delivered `units` (debit note `note`, owed `amount` once accepted).
    event Delivered(uint256 indexed job, uint256 indexed note, address indexed provider, uint256 units, uint256 amount, bytes32 resultHash, uint256 delivered);
    /// @notice A debit note was paid: `toProvider` to the provider, `burnt` + `toStakers` the fee.
    event Paid(uint256 indexed job, uint256 indexed note, address indexed provider, uint256 units, uint256 amount, uint256 toProvider, uint256 burnt, uint256 toStakers);
    /// @notice The pending notes of a job were frozen until the verdict.
    event Disputed(uint256 indexed job, address indexed by, uint256 notes, uint256 amount);
    /// @notice The committee's verdict on a disputed job (`providerRight`: its notes are paid; else refuted and the provider
    /// slashed), signed by validators of snapshot `snapshotId` holding `power`, submitted by `by`.
    event Resolved(uint256 indexed job, address indexed provider, bool providerRight, address by, uint64 snapshotId, uint256 power);
    /// @notice A refuted provider's bond was slashed: `toRequester` compensates the requester, `burnt` is destroyed.
    event ProviderSlashed(uint256 indexed job, address indexed provider, uint256 slashed, uint256 toRequester, uint256 burnt);
    /// @notice A provider that delivered nothing lost the job and paid `penalty` of its bond to the requester.
    event NoShow(uint256 indexed job, address indexed provider, uint256 penalty);
    /// @notice A job ended (`state` Settled or Expired) and `returned` of its escrow went back to the requester.
    event Refunded(uint256 indexed job, address indexed requester, uint256 returned, JobState state);

    // ------------------------------------------------------------------ errors (the TS tagged errors' names)

    error MarketProviderExists(address provider);
    error MarketUnknownProvider(address provider);
    error MarketInsufficientBond(address provider, uint256 bond, uint256 minimum);
    error MarketInvalidProvider(address provider, string reason);
    error MarketProviderRetired(address provider);
    error MarketProviderNotRetired(address provider);
    error MarketProviderBusy(address provider, uint256 openJobs);
    error MarketProviderFull(address provider, uint256 capacity);
    error MarketKindNotServed(address provider, string kind);
    error MarketPriceTooHigh(uint256 job, address provider, uint256 price, uint256 maxPrice);
    error MarketProviderExcluded(uint256 job, address provider);
    error MarketInvalidJob(string reason);
    error MarketUnknownJob(uint256 job);
    error MarketNotRequester(uint256 job, address caller, address requester);
    error MarketNotProvider(uint256 job, address caller, address provider);
    error MarketNotReferee(uint256 job, address caller);
    error MarketJobNotOpen(uint256 job, JobState state);
    error MarketJobNotAssigned(uint256 job, JobState state);
    error MarketJobDisputed(uint256 job);
    error MarketJobFinal(uint256 job, JobState state);
    error MarketNotDisputed(uint256 job, JobState state);
    error MarketPastDeadline(uint256 job, uint256 deadline, uint256 now);
    error MarketBeforeDeadline(uint256 job, uint256 deadline, uint256 now);
    error MarketDisputeWindowClosed(uint256 job, uint256 closedAt, uint256 now);
    error MarketDisputeWindowOpen(uint256 job, uint256 closesAt, uint256 now);
    error MarketNoShowNotDue(uint256 job, uint256 dueAt, uint256 now);
    error MarketInvalidDelivery(uint256 job, string reason);
    error MarketOverDelivery(uint256 job, uint256 units, uint256 delivered, uint256 total);
    error MarketNoteTooLarge(uint256 job, uint256 amount, uint256 maxAmount);
    error MarketNothingToPay(uint256 job);
    error MarketNothingToDispute(uint256 job);
    error MarketNotesPending(uint256 job, uint256 notes);
    /// @notice A verdict signed under a snapshot older than the newest one when the dispute opened (the Committee's error).
    error CommitteeStaleSnapshot(uint64 snapshotId, uint64 latest);
    /// @notice The account holds less than the operation moves (the economy's error of the same name).
    error TokenInsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @notice A constructor argument is unusable (contract-only).
    error MarketInvalidSetup(string reason);

    // ------------------------------------------------------------------ setup

    /// @notice Deploy over `staking_` (its token; fees go to it) with `constitution_`'s values and `committee_`'s
    /// snapshots for verdicts; `admin` grants the roles.
    constructor(Staking staking_, Constitution constitution_, Committee committee_, address admin) {
        if (address(staking_) == address(0) || address(constitution_) == address(0) || address(committee_) == address(0) || admin == address(0)) {
            revert MarketInvalidSetup("zero address");
        }
        staking = staking_;
        constitution = constitution_;
        committee = committee_;
        consensusChainId = staking_.consensusChainId();
        token = staking_.token();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        // Staking pulls each payment's fee from here (payFee).
        token.forceApprove(address(staking_), type(uint256).max);
    }

    // ------------------------------------------------------------------ providers

    /// @notice Register the caller as a provider: `bond` (≥ market.minProviderBond) moves from its balance
    /// into the market; `kinds` 1..16 distinct names of 1..64 bytes; `pricePerUnit` > 0; capacity 1..1e6. Once per account, ever.
    function registerProvider(uint256 bond, string[] calldata kinds, uint256 pricePerUnit, uint256 capacity) external nonReentrant {
        Provider storage p = _providers[msg.sender];
        if (p.exists) revert MarketProviderExists(msg.sender);
        uint256 minimum = _param(K_MIN_BOND);
        if (bond < minimum) revert MarketInsufficientBond(msg.sender, bond, minimum);
        _checkKinds(kinds);
        _checkOffer(pricePerUnit, capacity);
        if (bond > 0) _checkBalance(msg.sender, bond);
        p.bond = uint128(bond);
        p.pricePerUnit = uint128(pricePerUnit);
        p.capacity = uint32(capacity);
        p.registeredAt = uint48(block.timestamp);
        p.exists = true;
        for (uint256 i; i < kinds.length; ++i) {
            p.kinds.push(kinds[i]);
            _serves[msg.sender][keccak256(bytes(kinds[i]))] = true;
        }
        _providerList.push(msg.sender);
        totalBonds += bond;
        emit ProviderRegistered(msg.sender, bond, kinds, pricePerUnit, capacity);
        if (bond > 0) token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @notice Change the caller's price and capacity (open jobs keep the price locked at their assignment).
    function updateProvider(uint256 pricePerUnit, uint256 capacity) external nonReentrant {
        Provider storage p = _liveProvider(msg.sender);
        _checkOffer(pricePerUnit, capacity);
        p.pricePerUnit = uint128(pricePerUnit);
        p.capacity = uint32(capacity);
        emit ProviderUpdated(msg.sender, pricePerUnit, capacity);
    }

    /// @notice Move `amount` (> 0) more of the caller's balance into its bond (a registered, not retired provider).
    function addBond(uint256 amount) external nonReentrant {
        Provider storage p = _liveProvider(msg.sender);
        if (amount == 0) revert MarketInvalidProvider(msg.sender, "bond top-up must be > 0");
        _checkBalance(msg.sender, amount);
        p.bond += uint128(amount);
        totalBonds += amount;
        emit BondAdded(msg.sender, amount, p.bond);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Stop taking jobs (the jobs the caller holds continue).
    function retireProvider() external nonReentrant {
        Provider storage p = _liveProvider(msg.sender);
        p.retired = true;
        emit ProviderRetired(msg.sender);
    }

    /// @notice A retired provider with no open job takes back what is left of its bond (the record stays, bond 0).
    function withdrawBond() external nonReentrant returns (uint256 amount) {
        Provider storage p = _provider(msg.sender);
        if (!p.retired) revert MarketProviderNotRetired(msg.sender);
        if (p.openJobs > 0) revert MarketProviderBusy(msg.sender, p.openJobs);
        amount = p.bond;
        p.bond = 0;
        totalBonds -= amount;
        emit BondWithdrawn(msg.sender, amount);
        if (amount > 0) token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ jobs

    /// @notice Post a job of `kind` for `units` at most `maxPricePerUnit` each, due by `deadline` (unix s,
    /// after now; units ≤ 2^64 − 1, price ≤ 2^128 − 1); its budget (units × maxPricePerUnit) moves from the caller into escrow. Returns its id (1, 2, 3…).
    function postJob(string calldata kind, uint256 units, uint256 maxPricePerUnit, uint64 deadline) external nonReentrant returns (uint256 id) {
        uint256 len = bytes(kind).length;
        if (len == 0 || len > MAX_KIND_LENGTH) revert MarketInvalidJob("kind must be 1 to 64 bytes");
        if (units == 0 || units > type(uint64).max) revert MarketInvalidJob("units must be 1 to 2^64 - 1");
        if (maxPricePerUnit == 0 || maxPricePerUnit > type(uint128).max) revert MarketInvalidJob("max price per unit must be 1 to 2^128 - 1");
        if (deadline <= block.timestamp) revert MarketInvalidJob("deadline must be after now");
        if (deadline > type(uint40).max) revert MarketInvalidJob("deadline too far");
        uint256 budget = units * maxPricePerUnit; // < 2^192: no overflow
        _checkBalance(msg.sender, budget);
        // The balance bounds the budget (≤ supply < 2^128): the casts below are exact.
        id = ++jobCount;
        Job storage j = _jobs[id];
        j.requester = msg.sender;
        j.state = JobState.Open;
        j.deadline = uint40(deadline);
        j.postedAt = uint40(block.timestamp);
        j.units = uint128(units);
        j.maxPricePerUnit = uint128(maxPricePerUnit);
        j.budget = uint128(budget);
        j.escrow = uint128(budget);
        j.kind = kind;
        _kindHash[id] = keccak256(bytes(kind));
        totalEscrow += budget;
        emit JobPosted(id, msg.sender, kind, units, maxPricePerUnit, budget, deadline);
        token.safeTransferFrom(msg.sender, address(this), budget);
    }

    /// @notice The requester gives its open job to `provider` (registered, not retired, not refuted on it,
    /// serving the kind, price ≤ the job's max, bond ≥ the minimum, below capacity); its price is locked.
    function assignJob(uint256 id, address provider) external nonReentrant {
        Job storage j = _liveJob(id);
        _onlyRequester(id, j);
        if (j.state != JobState.Open) revert MarketJobNotOpen(id, j.state);
        if (block.timestamp >= j.deadline) revert MarketPastDeadline(id, j.deadline, block.timestamp);
        Provider storage p = _provider(provider);
        if (p.retired) revert MarketProviderRetired(provider);
        for (uint256 i; i < j.excluded.length; ++i) if (j.excluded[i] == provider) revert MarketProviderExcluded(id, provider);
        if (!_serves[provider][_kindHash[id]]) revert MarketKindNotServed(provider, j.kind);
        if (p.pricePerUnit > j.maxPricePerUnit) revert MarketPriceTooHigh(id, provider, p.pricePerUnit, j.maxPricePerUnit);
        uint256 minimum = _param(K_MIN_BOND);
        if (p.bond < minimum) revert MarketInsufficientBond(provider, p.bond, minimum);
        if (p.openJobs >= p.capacity) revert MarketProviderFull(provider, p.capacity);
        p.openJobs += 1;
        j.state = JobState.Assigned;
        j.provider = provider;
        j.pricePerUnit = p.pricePerUnit;
        j.assignedAt = uint40(block.timestamp);
        j.lastActivity = uint40(block.timestamp);
        emit JobAssigned(id, provider, p.pricePerUnit);
    }

    /// @notice The assigned provider delivers `units` more before the deadline: a pending debit note of
    /// units × the locked price, named by `resultHash`. Returns the note's id (1, 2, 3… within the job).
    /// Its bond must still be ≥ market.minProviderBond, and must answer for the note: with p the
    /// verification rate and slash = bond × wrongResultSlash, a note of amount A with A × (1 − p) > slash × p
    /// would make a made-up result pay (docs/market.md), so it is refused (off when p or the slash rate is 0).
    function deliver(uint256 id, uint256 units, bytes32 resultHash) external nonReentrant returns (uint256 note) {
        Job storage j = _liveJob(id);
        _onlyAssigned(id, j);
        if (msg.sender != j.provider) revert MarketNotProvider(id, msg.sender, j.provider);
        if (units == 0) revert MarketInvalidDelivery(id, "units must be > 0");
        if (block.timestamp >= j.deadline) revert MarketPastDeadline(id, j.deadline, block.timestamp);
        if (units > j.units - j.delivered) revert MarketOverDelivery(id, units, j.delivered, j.units);
        _checkNote(id, _providers[msg.sender].bond, units * j.pricePerUnit);
        j.notes.push(Note(msg.sender, NoteState.Pending, uint40(block.timestamp), uint128(units), j.pricePerUnit, resultHash));
        note = j.notes.length;
        j.delivered += uint128(units);
        j.lastActivity = uint40(block.timestamp);
        emit Delivered(id, note, msg.sender, units, units * j.pricePerUnit, resultHash, j.delivered);
    }

    /// @notice The requester accepts every pending delivery of its job: each is paid now.
    function confirm(uint256 id) external nonReentrant {
        Job storage j = _liveJob(id);
        _onlyRequester(id, j);
        _onlyAssigned(id, j);
        uint256 end = j.notes.length;
        if (j.firstOpen == end) revert MarketNothingToPay(id);
        _payout(id, j, end);
    }

    /// @notice Anyone pays a job's pending deliveries whose dispute window has closed.
    function settle(uint256 id) external nonReentrant {
        Job storage j = _liveJob(id);
        _onlyAssigned(id, j);
        uint256 window = _param(K_WINDOW) / 1000;
        uint256 end = j.firstOpen;
        uint256 n = j.notes.length;
        // Notes are delivered in time order: the ones past their window are a prefix of the pending ones.
        while (end < n && block.timestamp >= j.notes[end].deliveredAt + window) ++end;
        if (end == j.firstOpen) revert MarketNothingToPay(id);
        _payout(id, j, end);
    }

    /// @notice The requester or a referee (COMMITTEE_ROLE) freezes the job's pending deliveries while the newest is in its window.
    function dispute(uint256 id) external nonReentrant {
        Job storage j = _liveJob(id);
        if (msg.sender != j.requester && !hasRole(COMMITTEE_ROLE, msg.sender)) revert MarketNotReferee(id, msg.sender);
        _onlyAssigned(id, j);
        uint256 n = j.notes.length;
        if (j.firstOpen == n) revert MarketNothingToDispute(id);
        uint256 closedAt = j.notes[n - 1].deliveredAt + _param(K_WINDOW) / 1000;
        if (block.timestamp >= closedAt) revert MarketDisputeWindowClosed(id, closedAt, block.timestamp);
        uint256 amount;
        for (uint256 i = j.firstOpen; i < n; ++i) {
            Note storage note = j.notes[i];
            note.state = NoteState.Disputed;
            amount += uint256(note.units) * note.pricePerUnit;
        }
        j.state = JobState.Disputed;
        // The committee in office now (or a later one) gives the verdict, never one that has since left.
        j.disputeSnapshot = committee.latestSnapshotId();
        emit Disputed(id, msg.sender, n - j.firstOpen, amount);
    }

    /// @notice The digest the committee signs for the verdict `providerRight` under snapshot `snapshotId` on
    /// disputed job `id` (see the contract's notice; runtime/core/market/verdict.ts is the same bytes).
    function verdictDigest(uint256 id, bool providerRight, uint64 snapshotId) public view returns (bytes32) {
        Job storage j = _jobs[id];
        if (j.state != JobState.Disputed) revert MarketNotDisputed(id, j.state);
        uint256 first = j.firstOpen;
        uint256 n = j.notes.length;
        bytes32[] memory hashes = new bytes32[](n - first);
        for (uint256 i = first; i < n; ++i) hashes[i - first] = j.notes[i].resultHash;
        return keccak256(abi.encode(
            VERDICT_TAG, consensusChainId, address(this), id, providerRight, snapshotId, first + 1, n, keccak256(abi.encodePacked(hashes))
        ));
    }

    /// @notice The committee's verdict on a disputed job, submitted by anyone with `signatures` (65 bytes r‖s‖v
    /// each, over `verdictDigest`) of validators holding ≥ 2/3 of snapshot `snapshotId`'s power (no older than the
    /// dispute's; the Committee's errors otherwise): `providerRight` pays the frozen notes (the job goes on);
    /// otherwise they are refuted, the provider's bond is slashed by market.wrongResultSlash (the requester
    /// compensated up to the refuted amount, the rest burnt), the provider is excluded and the job is open again.
    function resolveDispute(uint256 id, bool providerRight, uint64 snapshotId, bytes[] calldata signatures) external nonReentrant {
        if (id == 0 || id > jobCount) revert MarketUnknownJob(id);
        Job storage j = _jobs[id];
        if (j.state != JobState.Disputed) revert MarketNotDisputed(id, j.state);
        if (snapshotId < j.disputeSnapshot) revert CommitteeStaleSnapshot(snapshotId, j.disputeSnapshot);
        uint256 power = committee.verifySignatures(snapshotId, verdictDigest(id, providerRight, snapshotId), signatures);
        address provider = j.provider;
        emit Resolved(id, provider, providerRight, msg.sender, snapshotId, power);
        if (providerRight) {
            j.state = JobState.Assigned;
            j.lastActivity = uint40(block.timestamp);
            _payout(id, j, j.notes.length);
            return;
        }
        uint256 frozen;
        uint256 n = j.notes.length;
        for (uint256 i = j.firstOpen; i < n; ++i) {
            Note storage note = j.notes[i];
            note.state = NoteState.Refuted;
            j.delivered -= note.units;
            frozen += uint256(note.units) * note.pricePerUnit;
        }
        j.firstOpen = uint64(n);
        Provider storage p = _providers[provider];
        uint256 slashed = uint256(p.bond) * _param(K_SLASH) / WAD;
        uint256 toRequester = Math.min(slashed, frozen);
        p.bond -= uint128(slashed);
        p.penalized += uint128(slashed);
        totalBonds -= slashed;
        j.compensation += uint128(toRequester);
        j.excluded.push(provider);
        _reopen(j, p);
        emit ProviderSlashed(id, provider, slashed, toRequester, slashed - toRequester);
        if (toRequester > 0) token.safeTransfer(j.requester, toRequester);
        if (slashed > toRequester) ERC20Burnable(address(token)).burn(slashed - toRequester);
    }

    /// @notice The requester takes its job from a provider with no pending delivery that delivered nothing
    /// for market.noShowTimeout: the provider pays market.noShowPenalty of its bond to the requester, the job reopens.
    function reclaimNoShow(uint256 id) external nonReentrant {
        Job storage j = _liveJob(id);
        _onlyRequester(id, j);
        _onlyAssigned(id, j);
        uint256 pending = j.notes.length - j.firstOpen;
        if (pending > 0) revert MarketNotesPending(id, pending);
        uint256 dueAt = uint256(j.lastActivity) + _param(K_NOSHOW_TIMEOUT) / 1000;
        if (block.timestamp < dueAt) revert MarketNoShowNotDue(id, dueAt, block.timestamp);
        address provider = j.provider;
        Provider storage p = _providers[provider];
        uint256 penalty = uint256(p.bond) * _param(K_NOSHOW_PENALTY) / WAD;
        p.bond -= uint128(penalty);
        p.penalized += uint128(penalty);
        totalBonds -= penalty;
        j.compensation += uint128(penalty);
        _reopen(j, p);
        emit NoShow(id, provider, penalty);
        if (penalty > 0) token.safeTransfer(j.requester, penalty);
    }

    /// @notice After the deadline and every pending delivery's window, anyone ends the job: pending deliveries
    /// are paid, the rest of the escrow returns to the requester; Settled if every unit was paid, else Expired.
    function refund(uint256 id) external nonReentrant {
        Job storage j = _liveJob(id);
        if (j.state == JobState.Disputed) revert MarketJobDisputed(id);
        if (block.timestamp < j.deadline) revert MarketBeforeDeadline(id, j.deadline, block.timestamp);
        uint256 n = j.notes.length;
        if (j.firstOpen < n) {
            // The newest pending note closes last.
            uint256 closesAt = j.notes[n - 1].deliveredAt + _param(K_WINDOW) / 1000;
            if (block.timestamp < closesAt) revert MarketDisputeWindowOpen(id, closesAt, block.timestamp);
        }
        (address provider, uint256 toProvider, uint256[] memory fees) = _payNotes(id, j, n);
        JobState end = j.paidUnits == j.units ? JobState.Settled : JobState.Expired;
        uint256 returned = _finish(id, j, end);
        _transferOut(provider, toProvider, fees, j.requester, returned);
    }

    // ------------------------------------------------------------------ views

    /// @notice A provider's record (`exists` false: never registered).
    function getProvider(address provider) external view returns (Provider memory) {
        return _providers[provider];
    }

    /// @notice Every provider ever registered, in registration order.
    function providerList() external view returns (address[] memory) {
        return _providerList;
    }

    /// @notice A job's record with its notes and exclusions (state None: no such job).
    function getJob(uint256 id) external view returns (Job memory) {
        return _jobs[id];
    }

    /// @notice Whether `provider` serves jobs of `kind`.
    function serves(address provider, string calldata kind) external view returns (bool) {
        return _serves[provider][keccak256(bytes(kind))];
    }

    // ------------------------------------------------------------------ internals: checks

    function _param(bytes32 key) private view returns (uint256) {
        return constitution.paramValue(key);
    }

    /// A delivering provider's bond: ≥ the minimum, and answering for a note of `amount` (runtime/core/market/math.ts
    /// noteTooLarge). Units < 2^64 and prices < 2^128 (postJob), so amount × WAD < 2^252: no product below overflows.
    function _checkNote(uint256 id, uint256 bond, uint256 amount) private view {
        uint256 minimum = _param(K_MIN_BOND);
        if (bond < minimum) revert MarketInsufficientBond(msg.sender, bond, minimum);
        uint256 p = _param(K_VERIFY);
        uint256 s = _param(K_SLASH);
        if (p == 0 || s == 0) return;
        uint256 slash = bond * s / WAD;
        if (amount * (WAD - p) > slash * p) revert MarketNoteTooLarge(id, amount, slash * p / (WAD - p));
    }

    function _checkBalance(address account, uint256 needed) private view {
        uint256 balance = token.balanceOf(account);
        if (balance < needed) revert TokenInsufficientBalance(account, balance, needed);
    }

    function _checkKinds(string[] calldata kinds) private view {
        if (kinds.length == 0 || kinds.length > MAX_KINDS) revert MarketInvalidProvider(msg.sender, "kinds must list 1 to 16 job kinds");
        for (uint256 i; i < kinds.length; ++i) {
            uint256 len = bytes(kinds[i]).length;
            if (len == 0 || len > MAX_KIND_LENGTH) revert MarketInvalidProvider(msg.sender, "every kind must be 1 to 64 bytes");
        }
        for (uint256 i; i < kinds.length; ++i) {
            bytes32 h = keccak256(bytes(kinds[i]));
            for (uint256 k = i + 1; k < kinds.length; ++k) {
                if (keccak256(bytes(kinds[k])) == h) revert MarketInvalidProvider(msg.sender, "a kind is listed twice");
            }
        }
    }

    function _checkOffer(uint256 pricePerUnit, uint256 capacity) private view {
        if (pricePerUnit == 0 || pricePerUnit > type(uint128).max) revert MarketInvalidProvider(msg.sender, "price per unit must be > 0 (and < 2^128)");
        if (capacity == 0 || capacity > MAX_CAPACITY) revert MarketInvalidProvider(msg.sender, "capacity must be 1 to 1000000 jobs");
    }

    function _provider(address provider) private view returns (Provider storage p) {
        p = _providers[provider];
        if (!p.exists) revert MarketUnknownProvider(provider);
    }

    /// @dev Registered and not retired.
    function _liveProvider(address provider) private view returns (Provider storage p) {
        p = _provider(provider);
        if (p.retired) revert MarketProviderRetired(provider);
    }

    /// @dev The job `id`, refused when unknown or already final.
    function _liveJob(uint256 id) private view returns (Job storage j) {
        j = _jobs[id];
        JobState s = j.state;
        if (s == JobState.None) revert MarketUnknownJob(id);
        if (s == JobState.Settled || s == JobState.Expired) revert MarketJobFinal(id, s);
    }

    function _onlyRequester(uint256 id, Job storage j) private view {
        if (msg.sender != j.requester) revert MarketNotRequester(id, msg.sender, j.requester);
    }

    /// @dev A live job that is assigned (a disputed one waits for its verdict).
    function _onlyAssigned(uint256 id, Job storage j) private view {
        JobState s = j.state;
        if (s == JobState.Disputed) revert MarketJobDisputed(id);
        if (s != JobState.Assigned) revert MarketJobNotAssigned(id, s);
    }

    // ------------------------------------------------------------------ internals: effects

    /// @dev Pay notes [firstOpen, end) and settle the job at once when that paid its last unit; then move the tokens.
    function _payout(uint256 id, Job storage j, uint256 end) private {
        (address provider, uint256 toProvider, uint256[] memory fees) = _payNotes(id, j, end);
        uint256 returned = j.paidUnits == j.units ? _finish(id, j, JobState.Settled) : 0;
        _transferOut(provider, toProvider, fees, j.requester, returned);
    }

    /// @dev Sums over the notes of one payout.
    struct Totals {
        uint256 units;
        uint256 amount;
        uint256 burnt;
        uint256 toProvider;
        uint256 feeWad;
        uint256 burnWad;
    }

    /// @dev Mark notes [firstOpen, end) paid and book the split of each (no token moves: the caller's `_transferOut` does).
    /// Every open note belongs to the job's current provider (a failover needs none pending).
    function _payNotes(uint256 id, Job storage j, uint256 end) private returns (address provider, uint256 toProvider, uint256[] memory fees) {
        uint256 start = j.firstOpen;
        provider = j.provider;
        fees = new uint256[](end - start);
        if (end == start) return (provider, 0, fees);
        Totals memory t = Totals(0, 0, 0, 0, _param(K_FEE), _param(K_BURN));
        for (uint256 i = start; i < end; ++i) fees[i - start] = _payNote(id, i, j.notes[i], provider, t);
        j.firstOpen = uint64(end);
        j.paidUnits += uint128(t.units);
        j.escrow -= uint128(t.amount);
        j.paid += uint128(t.toProvider);
        j.feeBurnt += uint128(t.burnt);
        j.feeToStakers += uint128(t.amount - t.toProvider - t.burnt);
        totalEscrow -= t.amount;
        toProvider = t.toProvider;
    }

    /// @dev One note paid: fee = amount × protocolFee, burnt = fee × burnFraction (floored, as paymentSplit).
    function _payNote(uint256 id, uint256 i, Note storage note, address provider, Totals memory t) private returns (uint256 fee) {
        note.state = NoteState.Paid;
        uint256 a = uint256(note.units) * note.pricePerUnit;
        fee = a * t.feeWad / WAD;
        uint256 b = fee * t.burnWad / WAD;
        t.units += note.units;
        t.amount += a;
        t.burnt += b;
        t.toProvider += a - fee;
        emit Paid(id, i + 1, provider, note.units, a, a - fee, b, fee - b);
    }

    /// @dev End the job in `state`: what is left of its escrow is returned (booked; moved by `_transferOut`), the provider's slot freed.
    function _finish(uint256 id, Job storage j, JobState state) private returns (uint256 returned) {
        returned = j.escrow;
        j.escrow = 0;
        j.returned += uint128(returned);
        totalEscrow -= returned;
        if (j.provider != address(0) && (j.state == JobState.Assigned || j.state == JobState.Disputed)) _providers[j.provider].openJobs -= 1;
        j.state = state;
        emit Refunded(id, j.requester, returned, state);
    }

    /// @dev Back to Open for another provider (failover).
    function _reopen(Job storage j, Provider storage p) private {
        p.openJobs -= 1;
        j.state = JobState.Open;
        j.provider = address(0);
        j.pricePerUnit = 0;
    }

    /// @dev The token moves of a payout, after every write: the provider's part, each note's fee to Staking
    /// (one `payFee` per note, so the burn rounds per note as in the economy), the returned escrow.
    function _transferOut(address provider, uint256 toProvider, uint256[] memory fees, address requester, uint256 returned) private {
        if (toProvider > 0) token.safeTransfer(provider, toProvider);
        for (uint256 i; i < fees.length; ++i) if (fees[i] > 0) staking.payFee(fees[i]);
        if (returned > 0) token.safeTransfer(requester, returned);
    }
}
