/** What every screen function gets besides the model: its box's size and the UI's selection. */
export interface ScreenView {
  /** Inner width and height of the screen's box, in cells. */
  readonly width: number
  readonly height: number
  /** Selected row (the proposal to vote on in governance); screens clamp it. */
  readonly selected: number
  /** The host's own rows for the overview (label, value): what it is doing while starting, its API URL. */
  readonly info?: ReadonlyArray<readonly [string, string]>
}

/** A screen: a pure function from the model to blessed-tagged content for one box. */
export type ScreenRender<M> = (model: M, view: ScreenView) => string
