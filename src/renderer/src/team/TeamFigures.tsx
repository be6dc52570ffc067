/**
 * The Team panel's figures (a plan's agreement report): the reader-pair mean Dice matrix, each
 * reader against the consensus, and the images in dispute. Reader names are "Reader N" when
 * the plan keeps readers anonymous (the host already sends them so).
 */
import type { AgreementReport } from '../../../shared/agreement-schemas';

export function figure(value: number | null, digits = 2): string {
  return value === null ? '–' : value.toFixed(digits);
}

export function PairMatrix({ report }: { report: AgreementReport }) {
  return (
    <table className="team-matrix" data-testid="team-matrix">
      <caption>Mean Dice per reader pair (images both read)</caption>
      <thead>
        <tr>
          <th />
          {report.readers.map((reader) => (
            <th key={reader.label} scope="col">
              {reader.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {report.readers.map((reader, a) => (
          <tr key={reader.label}>
            <th scope="row">{reader.label}</th>
            {report.matrix[a].map((value, b) => (
              <td
                key={b}
                data-testid={`team-matrix-${a}-${b}`}
                title={a === b ? undefined : `${report.pairImages[a][b]} image(s) both read`}
              >
                {a === b ? '·' : figure(value)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ReaderFigures({ report }: { report: AgreementReport }) {
  return (
    <table className="team-readers" data-testid="team-readers">
      <caption>
        Each reader against the {report.method === 'staple' ? 'STAPLE' : 'vote'} consensus
      </caption>
      <thead>
        <tr>
          <th scope="col">Reader</th>
          <th scope="col">Read</th>
          <th scope="col">Positive</th>
          <th scope="col">Dice</th>
          <th scope="col">Sensitivity</th>
          <th scope="col">Specificity</th>
        </tr>
      </thead>
      <tbody>
        {report.readers.map((reader) => (
          <tr key={reader.label} data-testid="team-reader-row">
            <th scope="row">{reader.label}</th>
            <td>
              {reader.read}/{reader.assigned}
            </td>
            <td>{reader.positive}</td>
            <td>{figure(reader.dice)}</td>
            <td>{figure(reader.sensitivity)}</td>
            <td>{figure(reader.specificity, 3)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DisputedImages({ report }: { report: AgreementReport }) {
  const disputed = report.images.filter((image) => image.disputed);
  if (disputed.length === 0) {
    return <p data-testid="team-disputed">No image in dispute.</p>;
  }
  return (
    <div data-testid="team-disputed">
      <h3>
        In dispute ({disputed.length}): mean Dice below {report.plan.threshold} or a
        negative/positive split
      </h3>
      <ul>
        {disputed.map((image) => (
          <li key={image.imageId} data-testid="team-disputed-image">
            {image.name}: mean Dice {figure(image.meanDice)}, {image.positive} positive /{' '}
            {image.negative} negative
          </li>
        ))}
      </ul>
    </div>
  );
}
