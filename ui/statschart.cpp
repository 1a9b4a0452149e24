// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "statschart.h"

#include <QPainter>
#include <QPainterPath>

#include <cmath>

namespace wsserve {

StatsChart::StatsChart(Series series, QString title, QColor colour, QWidget *parent)
    : QWidget(parent)
    , m_series(series)
    , m_title(std::move(title))
    , m_colour(std::move(colour))
{
    setMinimumHeight(90);
}

void StatsChart::setSamples(const QList<StatsSample> &samples)
{
    m_samples = samples;
    update();
}

double StatsChart::valueOf(const StatsSample &sample) const
{
    switch (m_series) {
    case Series::MessagesIn:
        return sample.messagesInPerSecond;
    case Series::MessagesOut:
        return sample.messagesOutPerSecond;
    case Series::Clients:
        return sample.clients;
    case Series::Invalid:
        break;
    }
    return 0;
}

void StatsChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QRectF frame = QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5);
    painter.fillRect(frame, palette().base());
    painter.setPen(palette().mid().color());
    painter.drawRect(frame);

    double maximum = 1;
    for (const StatsSample &sample : std::as_const(m_samples)) {
        maximum = std::max(maximum, valueOf(sample));
    }
    // A round upper bound (1, 2, 5 x 10^n) keeps the scale readable while it changes.
    const double magnitude = std::pow(10.0, std::floor(std::log10(maximum)));
    double top = magnitude;
    for (const double step : {1.0, 2.0, 5.0, 10.0}) {
        if (step * magnitude >= maximum) {
            top = step * magnitude;
            break;
        }
    }
    const QRectF plot = frame.adjusted(8, 22, -8, -8);
    painter.setPen(QPen(palette().mid().color(), 1, Qt::DotLine));
    painter.drawLine(QPointF(plot.left(), plot.top()), QPointF(plot.right(), plot.top()));
    painter.drawLine(QPointF(plot.left(), plot.center().y()), QPointF(plot.right(), plot.center().y()));

    const double current = m_samples.isEmpty() ? 0 : valueOf(m_samples.last());
    painter.setPen(palette().text().color());
    painter.drawText(frame.adjusted(8, 4, -8, 0), Qt::AlignLeft | Qt::AlignTop,
                     tr("%1: %2").arg(m_title, QString::number(current, 'f', 0)));
    painter.setPen(palette().placeholderText().color());
    painter.drawText(frame.adjusted(8, 4, -8, 0), Qt::AlignRight | Qt::AlignTop,
                     tr("max %1 · last %2 min").arg(top).arg(InstanceListModel::kHistorySeconds / 60));
    if (m_samples.size() < 2) {
        return;
    }
    const double step = plot.width() / (InstanceListModel::kHistorySeconds - 1);
    const double startX = plot.right() - step * static_cast<double>(m_samples.size() - 1);
    QPainterPath line;
    for (qsizetype i = 0; i < m_samples.size(); ++i) {
        const QPointF point(startX + step * static_cast<double>(i),
                            plot.bottom() - plot.height() * valueOf(m_samples.at(i)) / top);
        if (i == 0) {
            line.moveTo(point);
        } else {
            line.lineTo(point);
        }
    }
    QPainterPath area = line;
    area.lineTo(QPointF(plot.right(), plot.bottom()));
    area.lineTo(QPointF(startX, plot.bottom()));
    area.closeSubpath();
    QColor fill = m_colour;
    fill.setAlpha(50);
    painter.fillPath(area, fill);
    painter.setPen(QPen(m_colour, 1.6));
    painter.drawPath(line);
}

} // namespace wsserve
